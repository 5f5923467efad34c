"""System checks of our settings that Django's own do not know about. Those tagged deploy=True
run only with `check --deploy` (values fine in development, wrong in production); the others
run at every start. Their ids (wan_pwa.E001 to E005) are named in the README's settings table.
"""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

from wan_pwa.background.scheduler import JOBS


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
def check_periodic_job_periods_name_registered_jobs(app_configs, **kwargs) -> list[Error]:
    # Checked here rather than in settings: the apps register their jobs after settings load.
    unknown = sorted(set(settings.PERIODIC_JOB_PERIODS) - set(JOBS.names()))
    if not unknown:
        return []
    return [
        Error(
            f"PERIODIC_JOB_PERIODS names {', '.join(unknown)}, which no app registers.",
            hint=f"The periodic jobs are {', '.join(sorted(JOBS.names()))}.",
            id="wan_pwa.E002",
        )
    ]


@register(Tags.security, deploy=True)
def check_no_private_outbound_hosts(app_configs, **kwargs) -> list[Error]:
    if settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS:
        return [
            Error(
                "OUTBOUND_ALLOWED_PRIVATE_HOSTS lets users' push endpoints and webhook URLs "
                "reach private addresses over plain http.",
                hint="Leave OUTBOUND_ALLOWED_PRIVATE_HOSTS unset in production.",
                id="wan_pwa.E003",
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
                id="wan_pwa.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_webauthn_origin_is_checked(app_configs, **kwargs) -> list[Error]:
    if settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN:
        return [
            Error(
                "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is on: passkeys would accept any origin.",
                hint="It is for http://localhost in development and tests only; unset it.",
                id="wan_pwa.E005",
            )
        ]
    return []
