from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"

    def ready(self) -> None:
        from generations import account_data  # noqa: F401  (connects its receivers)
