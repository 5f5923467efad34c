from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"

    def ready(self) -> None:
        from credits.low_balance import PLUGGED
        from generations import (
            account_data,  # noqa: F401  (connects its receivers)
            admin,
            analytics,
            api_samples,
            dashboard,
            jobs,
        )
        from generations.catalog import CHEAPEST_COST
        from generations.metrics import GenerationsCollector
        from generations.notifications.push import send_low_balance_notice
        from wan_pwa.accounts.admin import register_user_section
        from wan_pwa.analytics.dashboard import register_card, register_target
        from wan_pwa.api.code_samples import register_code_samples
        from wan_pwa.background.scheduler import register_job
        from wan_pwa.metrics import register_collector

        register_job("reconcile_generations", jobs.reconcile_generations, every=300)
        register_job("storage_retention", jobs.apply_storage_retention, every=3600)
        register_job("rollup_generations", analytics.roll_up, every=300)
        register_job("check_models", jobs.check_model_schemas, every=86400)
        register_collector("generations", GenerationsCollector())
        register_card(
            "generations",
            dashboard.generations_card,
            series=dashboard.SERIES,
            gauges=dashboard.GAUGES,
        )
        register_card("failures", dashboard.failures_card)
        register_card("front_end", dashboard.front_end_card)
        register_target("success_rate", dashboard.success_rate_target)
        register_target("completion_p50", dashboard.completion_p50_target)
        register_target("completion_p95", dashboard.completion_p95_target)
        register_user_section("generations", admin.USER_SECTION)
        register_code_samples(api_samples.SAMPLES)
        # The low-balance alert's default threshold is the low-credit warning's (the cheapest
        # generation), and it pushes to the devices these notifications keep.
        PLUGGED.cheapest_cost = CHEAPEST_COST
        PLUGGED.push = send_low_balance_notice
