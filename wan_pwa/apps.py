from django.apps import AppConfig


class WanPwaConfig(AppConfig):
    name = "wan_pwa"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Django's admin discovers only `wan_pwa.admin`; the accounts' admin lives in their room.
        from wan_pwa import (
            checks,  # noqa: F401  (registers the deployment checks)
            log_context,  # noqa: F401  (binds each task's ids for its log lines)
        )
        from wan_pwa.accounts import (
            admin,  # noqa: F401  (registers the accounts' admin)
            allauth_admin,  # noqa: F401  (allauth's, to our rules)
        )
        from wan_pwa.background import admin as background_admin  # noqa: F401
