"""The webhooks a generation's ending owes its owner's endpoints (wan_pwa.outgoing_webhooks),
the per-request one given with it through the API included."""

from __future__ import annotations

from django.conf import settings

from generations.models import Generation, Status
from generations.request_webhook import subject
from generations.serializers import GenerationSerializer
from wan_pwa.outgoing_webhooks.events import Data, write_event
from wan_pwa.outgoing_webhooks.models import EventType

ENDED_EVENTS = {
    Status.SUCCEEDED: EventType.GENERATION_SUCCEEDED,
    Status.FAILED: EventType.GENERATION_FAILED,
    Status.CANCELED: EventType.GENERATION_CANCELED,
}


def generation_data(generation: Generation) -> Data:
    """The generation exactly as the API shows it, its video URL absolute."""
    data = dict(GenerationSerializer(generation, context={}).data)
    if isinstance(data.get("video_url"), str) and data["video_url"].startswith("/"):
        data["video_url"] = settings.SITE_URL.rstrip("/") + data["video_url"]
    return data


def record_ended(generation: Generation) -> list[int]:
    """Writes the ending's event for each endpoint that takes it, in the transaction that ends
    the generation (under its lock): once per endpoint, the event keyed by the generation.
    Returns the events' ids, whose sending the caller's FollowUps enqueue."""
    event_type = ENDED_EVENTS.get(Status(generation.status))
    if event_type is None:
        return []
    key = subject(generation.pk)
    return write_event(
        generation.user_id,
        event_type,
        lambda: generation_data(generation),
        key=key,
        subject=key,
    )
