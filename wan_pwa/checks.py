"""Deployment checks that Django's own `check --deploy` does not know about."""

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


@register(Tags.security, deploy=True)
def check_no_private_outbound_hosts(app_configs, **kwargs) -> list[Error]:
    if settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS:
        return [
            Error(
                "OUTBOUND_ALLOWED_PRIVATE_HOSTS lets users' push endpoints and webhook URLs "
                "reach private addresses over plain http.",
                hint="Leave OUTBOUND_ALLOWED_PRIVATE_HOSTS unset in production.",
                id="wan_pwa.E002",
            )
        ]
    return []
