from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from webhooks import (
            account_data,  # noqa: F401 (connects its receiver)
            checks,  # noqa: F401 (registers the system check)
        )
