"""Every write on webhook endpoints: register, change, disable, delete, rotate the secret, send
a test event, send an event again, and the per-request endpoint of one generation. Pages and
the API call these; refusals are ValidationErrors (field errors) or WebhookRefusals."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from wan_pwa.accounts.models import User
from wan_pwa.errors import DomainError
from wan_pwa.outbound import allowed_private_hosts, is_public
from wan_pwa.outgoing_webhooks.delivery import deliver_webhook
from wan_pwa.outgoing_webhooks.events import event_body
from wan_pwa.outgoing_webhooks.models import (
    DESCRIPTION_MAX_LENGTH,
    TEST_EVENT_TYPE,
    URL_MAX_LENGTH,
    EventStatus,
    EventType,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSigningSecret,
    new_secret,
)

ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long
PENDING_TEST_EVENTS = 3  # test events of one endpoint waiting to be sent, at most


class WebhookRefusal(DomainError):
    code = "webhook_conflict"
    status = 409


class TooManyTestEvents(DomainError):
    code = "rate_limited"
    status = 429


def check_url(url: str) -> str:
    """The URL, trimmed, or a ValidationError saying why we would never send to it: https (or
    http to a host OUTBOUND_ALLOWED_PRIVATE_HOSTS names), no credentials, and not an address
    that is private on its face. Names are resolved only when sending (the guard checks every
    delivery), so a name that resolves to a private address is refused then."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Give the https address of your receiver.")
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(f"The address must be at most {URL_MAX_LENGTH} characters long.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a bad port)
    except ValueError:
        raise ValidationError("This is not a valid address.") from None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or any(ord(c) < 33 or ord(c) > 126 for c in url):
        raise ValidationError("This is not a valid address.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("An address with a user name or password is not accepted.")
    allowed = host in allowed_private_hosts()
    if parts.scheme.lower() != "https" and not (allowed and parts.scheme.lower() == "http"):
        raise ValidationError("Only https addresses are accepted.")
    if not allowed:
        if host == "localhost" or host.endswith(".localhost"):
            raise ValidationError(f"{host} is not a public internet address.")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return url
        if not is_public(address):
            raise ValidationError(f"{host} is not a public internet address.")
    return url


def check_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    unknown = [name for name in chosen if name not in EventType.values]
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(map(str, unknown))}.")
    if not chosen:
        raise ValidationError("Choose at least one event type.")
    return chosen


def _check_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(f"At most {DESCRIPTION_MAX_LENGTH} characters.")
    return description


def _fields(**checks) -> dict:
    """Each value checked by its function; one ValidationError naming every bad field."""
    cleaned, errors = {}, {}
    for name, (check, value) in checks.items():
        try:
            cleaned[name] = check(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_endpoint(
    user: User, url: str, events: Iterable[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (to be shown once). Refused past
    WEBHOOK_ENDPOINTS_PER_USER."""
    cleaned = _fields(
        url=(check_url, url),
        events=(check_events, events),
        description=(_check_description, description),
    )
    limit = settings.WEBHOOK_ENDPOINTS_PER_USER
    with transaction.atomic():
        # Locking the user's row serializes concurrent creations, so the cap holds.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if WebhookEndpoint.objects.filter(user=user, subject="").count() >= limit:
            raise ValidationError(
                f"You already have {limit} webhook endpoints; delete one you no longer use."
            )
        endpoint = WebhookEndpoint.objects.create(user=user, secret=new_secret(), **cleaned)
    return endpoint, endpoint.secret


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Changes what is given. Enabling a disabled endpoint clears why it was disabled and its
    failure streak; events from then on are sent to it."""
    checks = {
        "url": (check_url, url),
        "events": (check_events, events),
        "description": (_check_description, description),
    }
    cleaned = _fields(**{name: check for name, check in checks.items() if check[1] is not None})
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        changed = set(cleaned)
        if enabled is not None and enabled != locked.enabled:
            locked.enabled = enabled
            locked.disabled_reason = "" if enabled else "Disabled by you."
            locked.failing_since = None
            changed |= {"enabled", "disabled_reason", "failing_since"}
        if changed:
            locked.save(update_fields=[*sorted(changed), "updated_at"])
    return locked


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Removes the endpoint with its events and their log; nothing more is sent to it."""
    endpoint.delete()


def rotate_secret(endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new secret (to be shown once); the old one keeps signing beside it for 24 hours, so
    the receiver can switch without losing an event."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
        locked.secret = new_secret()
        locked.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
    return locked, locked.secret


def _refuse_if_disabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise WebhookRefusal("This endpoint is disabled; enable it first.")


def send_test_event(endpoint: WebhookEndpoint) -> WebhookEvent:
    """A `webhook.test` event for this endpoint alone, whatever it subscribes to."""
    _refuse_if_disabled(endpoint)
    data = {"message": "A test event from Wan PWA: your endpoint receives our webhooks."}
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        waiting = WebhookEvent.objects.filter(
            endpoint=locked, type=TEST_EVENT_TYPE, status=EventStatus.PENDING
        )
        if waiting.count() >= PENDING_TEST_EVENTS:
            raise TooManyTestEvents(
                f"{PENDING_TEST_EVENTS} test events are still on their way; wait for them.",
                retry_after=10,
            )
        event = WebhookEvent.objects.create(
            endpoint=endpoint,
            key=f"test:{uuid.uuid4().hex}",
            type=TEST_EVENT_TYPE,
            body=event_body(TEST_EVENT_TYPE, data),
        )
        deliver_webhook.enqueue(event.pk, 1, True)
    return event


def resend_event(event: WebhookEvent) -> WebhookEvent:
    """Sends the event once more, now, as the same message (same `webhook-id` and body). An
    event still waiting for a retry is sent at once instead; one already being sent is not
    queued twice."""
    with transaction.atomic():
        locked = (
            WebhookEvent.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=event.pk)
        )
        _refuse_if_disabled(locked.endpoint)
        if locked.status == EventStatus.PENDING and locked.next_attempt_at is None:
            raise WebhookRefusal("This event is being sent right now.")
        locked.status, locked.next_attempt_at = EventStatus.PENDING, None
        locked.save(update_fields=["status", "next_attempt_at"])
        deliver_webhook.enqueue(locked.pk, locked.attempts + 1, True)
    return locked


def signing_secret(user: User | int) -> str:
    """The secret that signs the account's per-request webhooks (made on first use)."""
    user_id = user if isinstance(user, int) else user.pk
    return WebhookSigningSecret.objects.get_or_create(user_id=user_id)[0].secret


def attach_request_webhook(
    user: User, subject: str, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """The per-request endpoint for `subject` (e.g. "generation:42"): it gets that subject's
    events of the given types, signed with the account's per-request secret. Call inside the
    transaction that creates the subject, with a URL check_url accepted."""
    signing_secret(user)
    return WebhookEndpoint.objects.create(user=user, url=url, events=list(events), subject=subject)


def prune_deliveries() -> str:
    """Deletes events (with their attempts) sent or given up more than
    WEBHOOK_DELIVERY_RETENTION_DAYS ago; a periodic job. Idempotent: it deletes by age only."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    old = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(status=EventStatus.PENDING)
    deleted = old.delete()[1].get(WebhookEvent._meta.label, 0)
    return f"deleted {deleted} webhook events sent to API users"
