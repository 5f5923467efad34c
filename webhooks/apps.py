from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from wan_pwa.analytics.dashboard import register_card, register_target
        from wan_pwa.background.scheduler import register_job
        from wan_pwa.metrics import register_collector
        from webhooks import (
            account_data,  # noqa: F401 (connects its receiver)
            analytics,
            checks,  # noqa: F401 (registers the system check)
            dashboard,
            jobs,
        )
        from webhooks.metrics import WebhooksCollector

        register_job("prune_webhook_events", jobs.prune_webhook_events, every=3600)
        register_job("rollup_webhooks", analytics.roll_up, every=300)
        register_collector("webhooks", WebhooksCollector())
        register_card("webhooks", dashboard.webhooks_card)
        register_target("webhook_delivery", dashboard.webhook_delivery_target)
