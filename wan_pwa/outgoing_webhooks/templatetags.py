"""`{% webhook_endpoints_for request.user as endpoints %}`: the webhooks section queries its own
data, so the Settings page can include it without preparing a context."""

from __future__ import annotations

from django import template

from wan_pwa.outgoing_webhooks.actions import signing_secret
from wan_pwa.outgoing_webhooks.models import EventType, WebhookEndpoint

register = template.Library()


@register.simple_tag
def webhook_endpoints_for(user) -> list[WebhookEndpoint]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(WebhookEndpoint.objects.filter(user=user, subject=""))


@register.simple_tag
def webhook_event_types() -> list[tuple[str, str]]:
    return list(EventType.choices)


@register.simple_tag
def webhook_signing_secret_for(user) -> str:
    """The account's per-request secret (made on first use)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return signing_secret(user)
