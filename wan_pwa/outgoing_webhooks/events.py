"""Recording the events API users' endpoints are owed, inside the transaction that causes them.

`record_event` is what the apps call (a generation's ending, a paid order, a low balance): one
row per subscribed endpoint, and its first delivery enqueued in the same transaction, so the
event and its sending commit together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks.delivery import deliver_webhook
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint, WebhookEvent

Data = dict[str, Any]


def event_body(type: str, data: Data) -> str:
    """The JSON sent: type, time of the event (UTC, microseconds) and its data."""
    timestamp = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        {"type": type, "timestamp": timestamp, "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def subscribed_endpoints(user: User | int, type: str, subject: str = "") -> list[WebhookEndpoint]:
    """The user's enabled endpoints that take `type`: those they registered and, for an event
    about `subject`, the per-request endpoint given with it."""
    owners = Q(subject="") | Q(subject=subject) if subject else Q(subject="")
    endpoints = WebhookEndpoint.objects.filter(owners, user=user, enabled=True)
    return [endpoint for endpoint in endpoints if type in endpoint.events]


def record_event(
    user: User | int,
    type: str,
    data: Data | Callable[[], Data],
    *,
    key: str | None = None,
    subject: str = "",
) -> list[int]:
    """Writes the event for each of the user's endpoints that take it and enqueues its delivery
    (see write_event); call it inside the transaction that causes the event."""
    event_ids = write_event(user, type, data, key=key, subject=subject)
    send(event_ids)
    return event_ids


def write_event(
    user: User | int,
    type: str,
    data: Data | Callable[[], Data],
    *,
    key: str | None = None,
    subject: str = "",
) -> list[int]:
    """The ids of the events written, one per endpoint of the user's that takes `type`, for an
    action that leaves the sending (`send`) to its caller's transaction.

    `data` may be a function, called only when some endpoint takes the event. `key` names what
    the event is about ("order:7"): an endpoint gets one event per key, however often this runs
    (the database refuses a second row); without one every call is a new event. `subject` also
    reaches the per-request endpoint registered for it (actions.attach_request_webhook).
    """
    endpoints = subscribed_endpoints(user, type, subject)
    if not endpoints:
        return []
    body = event_body(type, data() if callable(data) else data)
    written = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():  # a savepoint: a duplicate leaves the caller's work intact
                event = WebhookEvent.objects.create(
                    endpoint=endpoint, key=key or uuid.uuid4().hex, type=type, body=body
                )
        except IntegrityError:
            continue  # this endpoint already has the event: it is sent once
        written.append(event.pk)
    return written


def send(event_ids: list[int]) -> None:
    """Enqueues the first delivery of each event, in the caller's transaction."""
    for event_id in event_ids:
        deliver_webhook.enqueue(event_id, 1)
