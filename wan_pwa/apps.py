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
        from wan_pwa.accounts import admin as account_admin
        from wan_pwa.accounts import (
            allauth_admin,  # noqa: F401  (allauth's, to our rules)
            data_export,
        )
        from wan_pwa.accounts import analytics as account_analytics
        from wan_pwa.analytics.dashboard import queue_and_signups, register_card
        from wan_pwa.background import admin as background_admin  # noqa: F401
        from wan_pwa.background import jobs
        from wan_pwa.background.scheduler import register_job
        from wan_pwa.metrics import TaskQueueCollector, register_collector
        from wan_pwa.outgoing_webhooks import actions as webhook_actions
        from wan_pwa.outgoing_webhooks import admin as webhook_admin  # noqa: F401

        register_job("prune_task_results", jobs.prune_task_results, every=3600)
        register_job("rollup_accounts", account_analytics.roll_up, every=300)
        register_job("expire_data_exports", data_export.remove_expired_exports, every=3600)
        register_job("prune_webhook_deliveries", webhook_actions.prune_deliveries, every=3600)
        register_collector("task_queue", TaskQueueCollector())
        account_admin.register_user_section("status", account_admin.STATUS_SECTION)
        account_admin.register_user_section("deletion", account_admin.DELETION_SECTION)
        account_admin.register_user_section("api_keys", account_admin.API_KEYS_SECTION)
        # The machinery after the product: last on the dashboard.
        register_card("queue_and_signups", queue_and_signups, order=100)
