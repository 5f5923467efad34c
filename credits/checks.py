"""Payments configuration checks."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def stripe_webhook_secret_is_set(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without the webhook secret no payment could be verified, so none would be credited."""
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        return [
            checks.Error(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: paid orders would "
                "never be credited.",
                hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...) "
                "from the Stripe dashboard or `stripe listen`.",
                id="credits.E001",
            )
        ]
    return []
