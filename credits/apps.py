from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits import (
            admin,
            analytics,
            api_samples,
            checks,  # noqa: F401  (registers the payments deploy check)
            dashboard,
            jobs,
            receivers,  # noqa: F401  (connects them to the accounts' signals)
        )
        from credits.metrics import CreditsCollector
        from wan_pwa.accounts.admin import register_user_section
        from wan_pwa.analytics.dashboard import register_card, register_target
        from wan_pwa.api.code_samples import register_code_samples
        from wan_pwa.background.scheduler import register_job
        from wan_pwa.metrics import register_collector

        register_job(dashboard.AUDIT_JOB, jobs.audit_credits, every=3600)
        register_job("reconcile_orders", jobs.reconcile_orders, every=600)
        register_job("rollup_credits", analytics.roll_up, every=300)
        # Sign-up bonuses that waited for a day's bonus budget (credits/bonus.py).
        register_job("grant_waiting_bonuses", jobs.grant_waiting_bonuses, every=600)
        # Credits whose bucket expired leave the balance (credits/buckets.py).
        register_job("expire_buckets", jobs.expire_buckets, every=300)
        register_collector("credits", CreditsCollector())
        register_card("credits", dashboard.credits_card, jobs=[dashboard.AUDIT_JOB])
        register_target("credit_audit", dashboard.audit_target)
        register_user_section("credits", admin.USER_SECTION)
        register_code_samples(api_samples.SAMPLES)
