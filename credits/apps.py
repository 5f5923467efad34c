from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits import receivers  # noqa: F401  (connects them to the accounts' signals)
