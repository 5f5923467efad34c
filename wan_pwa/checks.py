"""Deployment checks that Django's own `check --deploy` does not know about."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs, **kwargs) -> list[Error]:
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the development key.",
                hint="Set the SECRET_KEY environment variable to a long random value.",
                id="wan_pwa.E001",
            )
        ]
    return []


@register()
def check_legal_templates_dir(app_configs, **kwargs) -> list[Error]:
    folder = settings.LEGAL_TEMPLATES_DIR
    if folder and not Path(folder).is_dir():
        return [
            Error(
                f"LEGAL_TEMPLATES_DIR {folder!r} is not a folder.",
                hint="Point it at the folder of your terms.html and privacy.html, or unset it.",
                id="wan_pwa.E002",
            )
        ]
    return []
