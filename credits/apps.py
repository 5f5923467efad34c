from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits import (
            checks,  # noqa: F401  (registers the payments deploy check)
            receivers,  # noqa: F401  (connects them to the accounts' signals)
        )
