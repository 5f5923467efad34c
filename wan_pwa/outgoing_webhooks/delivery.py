"""Sending an event to its endpoint from the task worker, through the outbound guard, with
retries on a fixed schedule and a log row for every attempt.

Each attempt carries the number it is expected to be, so a stale or repeated task (a retry
overtaken by "send again", a task run twice) sends nothing. An attempt is counted before the
request goes out; a worker that dies mid-request has its task run again, which sends that
attempt once more (once it is clearly lost) under the same `webhook-id` (receivers dedupe on
it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from wan_pwa.outbound import GuardedSession, RefusedURL
from wan_pwa.outgoing_webhooks.models import (
    ANSWER_KEPT_BYTES,
    EventStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSigningSecret,
)
from wan_pwa.outgoing_webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

# Seconds to wait after each failed attempt: about a day and a half of tries in all.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Between a generation's own work (submit, copy, cancel) and the watchdog's checks.
DELIVERY_PRIORITY = 0
USER_AGENT = "WanPWA-Webhooks/1.0"
LOST_AFTER = timedelta(minutes=2)


@task(priority=DELIVERY_PRIORITY)
def deliver_webhook(event_id: int, attempt: int, manual: bool = False) -> None:
    """One attempt to deliver the event (enqueued with it, by its retries and by "send
    again"); a manual attempt schedules no retry."""
    deliver(event_id, attempt, manual=manual)


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    status_code: int | None = None
    latency_ms: int | None = None
    answer: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The endpoint's secret and, for 24 hours after a rotation, the one it replaced; the
    account's per-request secret for a per-request endpoint."""
    if endpoint.is_per_request:
        return [WebhookSigningSecret.objects.get_or_create(user_id=endpoint.user_id)[0].secret]
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        secrets.append(endpoint.previous_secret)
    return secrets


def deliver(event_id: int, attempt: int, *, manual: bool = False) -> WebhookDelivery | None:
    """Attempt number `attempt` of the event; None when it is not this attempt's turn (sent,
    given up, overtaken, or the endpoint disabled)."""
    event = _claim(event_id, attempt)
    if event is None:
        return None
    outcome = send(event.endpoint, event.message_id, event.body.encode())
    return _record(event, attempt, outcome, manual=manual)


def _claim(event_id: int, attempt: int) -> WebhookEvent | None:
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=event_id)
            .first()
        )
        if event is None or event.status != EventStatus.PENDING or not event.endpoint.enabled:
            return None
        if event.attempts != attempt - 1 and not _lost(event, attempt):
            return None
        event.attempts, event.claimed_at, event.next_attempt_at = attempt, timezone.now(), None
        event.save(update_fields=["attempts", "claimed_at", "next_attempt_at"])
    return event


def _lost(event: WebhookEvent, attempt: int) -> bool:
    """True when this attempt was claimed but never logged, by a worker that must have died:
    longer ago than any request may last (the guard cuts each at its total timeout)."""
    claimed_long_ago = event.claimed_at is None or event.claimed_at < timezone.now() - LOST_AFTER
    return (
        event.attempts == attempt
        and claimed_long_ago
        and not event.deliveries.filter(attempt=attempt).exists()
    )


def send(endpoint: WebhookEndpoint, message_id: str, body: bytes) -> Outcome:
    """One signed POST through the guard; never raises for the endpoint's failures."""
    started_at = timezone.now()
    headers = signed_headers(signing_secrets(endpoint), message_id, int(time.time()), body)
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    began = time.monotonic()
    try:
        with GuardedSession() as session:
            response = session.post(endpoint.url, data=body, headers=headers)
    except RefusedURL as refused:
        return Outcome(started_at, error=f"Refused: {refused}"[:300])
    except requests.Timeout:
        return Outcome(started_at, latency_ms=_since(began), error="No answer in time.")
    except requests.RequestException as failure:
        return Outcome(started_at, latency_ms=_since(began), error=_reason(failure))
    answer = response.content[:ANSWER_KEPT_BYTES].decode("utf-8", errors="replace")
    return Outcome(started_at, response.status_code, _since(began), answer)


def _since(began: float) -> int:
    return round((time.monotonic() - began) * 1000)


def _reason(failure: requests.RequestException) -> str:
    if isinstance(failure, requests.ConnectionError):
        text = str(failure.args[0]) if failure.args else ""
        if "within" in text:  # the guard's whole-request deadline
            return f"No answer in time: {text}"[:300]
        return "Could not connect."
    return f"The request failed: {type(failure).__name__}."


def _record(
    event: WebhookEvent, attempt: int, outcome: Outcome, *, manual: bool
) -> WebhookDelivery:
    now = timezone.now()
    disabled: WebhookEndpoint | None = None
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=event.endpoint_id)
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        delivery = WebhookDelivery.objects.create(
            event=event,
            attempt=attempt,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            answer=outcome.answer,
            error=outcome.error or ("" if outcome.succeeded else "The answer was not a 2xx."),
            started_at=outcome.started_at,
            finished_at=now,
        )
        if outcome.succeeded:
            event.status, event.delivered_at = EventStatus.DELIVERED, now
            event.save(update_fields=["status", "delivered_at"])
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since", "updated_at"])
            return delivery
        if manual or attempt >= MAX_ATTEMPTS:
            event.status = EventStatus.FAILED
            event.save(update_fields=["status"])
        else:
            delay = timedelta(seconds=RETRY_DELAYS[attempt - 1])
            event.next_attempt_at = now + delay
            event.save(update_fields=["next_attempt_at"])
            deliver_webhook.using(run_after=event.next_attempt_at).enqueue(event.pk, attempt + 1)
        if endpoint.failing_since is None:
            endpoint.failing_since = outcome.started_at
            endpoint.save(update_fields=["failing_since", "updated_at"])
        elif not endpoint.is_per_request and endpoint.enabled and _failed_too_long(endpoint, now):
            endpoint.enabled = False
            endpoint.disabled_reason = (
                f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
            )
            endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
            disabled = endpoint
    if disabled is not None:
        _tell_owner(disabled)
    return delivery


def _failed_too_long(endpoint: WebhookEndpoint, now: datetime) -> bool:
    assert endpoint.failing_since is not None
    return now - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)


def _tell_owner(endpoint: WebhookEndpoint) -> None:
    user = endpoint.user
    if not user.email:
        return
    text = (
        f"We stopped sending webhooks to {endpoint.url}: {endpoint.disabled_reason}\n\n"
        "Fix the receiver, then enable the endpoint again in Settings > Developers "
        f"({settings.SITE_URL}/settings/developers/); "
        "events from now on will be sent to it."
    )
    try:
        send_mail("Your webhook endpoint was disabled", text, None, [user.email])
    except Exception:  # a mail failure must not undo the disabling
        logger.exception("Could not e-mail %s about endpoint %s", user.email, endpoint.pk)
