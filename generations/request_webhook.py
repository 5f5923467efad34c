"""The per-request webhook of POST /api/v1/generations/ (`webhook`, `webhook_events_filter`):
one generation's endings sent to a URL, as Replicate offers for predictions."""

from __future__ import annotations

from dataclasses import dataclass

from wan_pwa.outgoing_webhooks.models import EventType

# The `webhook_events_filter` kinds, as Replicate names a prediction's endings.
REQUEST_EVENT_KINDS = {
    "succeeded": EventType.GENERATION_SUCCEEDED,
    "failed": EventType.GENERATION_FAILED,
    "canceled": EventType.GENERATION_CANCELED,
}


@dataclass(frozen=True)
class RequestWebhook:
    """Where to send one generation's endings, and which of them."""

    url: str
    events: tuple[str, ...]


def subject(generation_id: int) -> str:
    """What the generation's events are keyed by, and its per-request endpoint's subject."""
    return f"generation:{generation_id}"
