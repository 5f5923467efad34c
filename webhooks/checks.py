from __future__ import annotations

from django.conf import settings
from django.core import checks

from webhooks.verification import signing_key


@checks.register(checks.Tags.security)
def webhook_secret_is_usable(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A malformed REPLICATE_WEBHOOK_SECRET would make every webhook fail; say so at start-up."""
    secret = settings.REPLICATE_WEBHOOK_SECRET
    if not secret:
        return []
    try:
        signing_key(secret)
    except ValueError as error:
        return [
            checks.Error(
                str(error),
                hint=(
                    "Use the key from Replicate (GET /v1/webhooks/default/secret), "
                    "or leave it empty to have it fetched."
                ),
                id="webhooks.E001",
            )
        ]
    return []
