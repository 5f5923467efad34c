"""The webhooks we send to API users: signed as Standard Webhooks, delivered by the task worker
through the outbound guard to a real receiver on 127.0.0.1, retried on a schedule under the
same webhook-id, logged, and an endpoint that fails for days disabled with an e-mail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pytest_django import Settings

from tests.fixtures.local_servers import Answer, Received, StartServer
from tests.generations.lifecycle_helpers import make_due, run_tasks
from tests.wan_pwa.webhook_receiver import event_of, signatures_valid_for
from wan_pwa.accounts.models import User
from wan_pwa.outbound import READ_TIMEOUT_SECONDS
from wan_pwa.outgoing_webhooks import actions
from wan_pwa.outgoing_webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS, deliver
from wan_pwa.outgoing_webhooks.events import record_event
from wan_pwa.outgoing_webhooks.models import (
    EventStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db
LOW = {"balance": 3, "threshold": 5}


@pytest.fixture(autouse=True)
def local_receivers(settings: Settings) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def endpoint_for(user: User, url: str, events=("credits.low",)) -> tuple[WebhookEndpoint, str]:
    return actions.create_endpoint(user, url + "/hook", list(events), "tests")


def record_low(user: User, key: str | None = None) -> list[int]:
    with transaction.atomic():
        return record_event(user, "credits.low", LOW, key=key)


def test_an_event_is_delivered_signed_with_the_endpoints_secret(
    user: User, start_server: StartServer
):
    receiver = start_server(Answer(204))
    _, secret = endpoint_for(user, receiver.url)

    (event_id,) = record_low(user)
    run_tasks()

    (received,) = receiver.received
    assert received.method == "POST" and received.path == "/hook"
    assert received.headers["content-type"] == "application/json"
    assert signatures_valid_for(received, secret)
    assert not signatures_valid_for(received, actions.new_secret())
    event = event_of(received)
    assert event["type"] == "credits.low" and event["data"] == LOW
    assert event["timestamp"].endswith("Z")
    stored = WebhookEvent.objects.get(pk=event_id)
    assert received.headers["webhook-id"] == stored.message_id
    assert stored.message_id.startswith("msg_")
    assert stored.status == EventStatus.DELIVERED
    assert received.body == stored.body.encode()  # the exact bytes signed
    (attempt,) = stored.deliveries.all()
    assert (attempt.attempt, attempt.succeeded, attempt.status_code) == (1, True, 204)
    assert attempt.latency_ms is not None and attempt.latency_ms < 5000


def test_an_event_goes_only_to_the_owners_endpoints_that_take_it(
    user: User, other_user: User, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint_for(user, receiver.url, events=["order.paid"])
    endpoint_for(other_user, receiver.url)
    disabled, _ = endpoint_for(user, receiver.url)
    actions.update_endpoint(disabled, enabled=False)

    assert record_low(user) == []
    run_tasks()
    assert receiver.received == []


def test_the_same_event_is_written_and_sent_once_per_endpoint(
    user: User, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint_for(user, receiver.url)
    endpoint_for(user, receiver.url)

    assert len(record_low(user, key="low:1")) == 2
    assert record_low(user, key="low:1") == []
    run_tasks()
    run_tasks()

    assert len(receiver.received) == 2  # one per endpoint
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 2


def test_failures_are_retried_on_the_schedule_under_the_same_webhook_id(
    user: User, start_server: StartServer
):
    answers = iter([Answer(500, body=b"boom" * 1000), Answer(503), Answer(200)])
    receiver = start_server(lambda request: next(answers))
    endpoint, secret = endpoint_for(user, receiver.url)
    (event_id,) = record_low(user)

    run_tasks()
    event = WebhookEvent.objects.get(pk=event_id)
    assert event.status == EventStatus.PENDING and event.attempts == 1
    assert event.next_attempt_at is not None
    due_in = (event.next_attempt_at - timezone.now()).total_seconds()
    assert RETRY_DELAYS[0] - 2 < due_in <= RETRY_DELAYS[0]
    first = event.deliveries.get()
    assert (first.status_code, first.succeeded, len(first.answer)) == (500, False, 1024)
    run_tasks()
    assert len(receiver.received) == 1  # not due yet

    for attempts in (2, 3):
        assert make_due("deliver_webhook") == 1
        run_tasks()
        assert len(receiver.received) == attempts
    event.refresh_from_db()
    assert event.status == EventStatus.DELIVERED
    assert [d.status_code for d in event.deliveries.order_by("attempt")] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    assert all(signatures_valid_for(r, secret) for r in receiver.received)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # the success ended the streak


def test_a_receiver_too_slow_to_answer_is_retried_under_the_same_webhook_id(
    user: User, start_server: StartServer
):
    release = threading.Event()

    def slow_then_fine(request: Received) -> Answer:
        if len(receiver.received) == 1:
            release.wait(READ_TIMEOUT_SECONDS + 2)  # past the guard's read timeout
        return Answer(200)

    receiver = start_server(slow_then_fine)
    _, secret = endpoint_for(user, receiver.url)
    (event_id,) = record_low(user)

    first = deliver(event_id, 1)
    release.set()
    assert first is not None and not first.succeeded
    assert first.status_code is None and "in time" in first.error
    assert make_due("deliver_webhook") == 2  # the first attempt's task (run directly) and the retry
    run_tasks()

    assert WebhookEvent.objects.get(pk=event_id).status == EventStatus.DELIVERED
    slow, fine = receiver.received
    assert slow.headers["webhook-id"] == fine.headers["webhook-id"]
    assert signatures_valid_for(fine, secret)


def test_a_stale_or_repeated_attempt_sends_nothing(user: User, start_server: StartServer):
    receiver = start_server(Answer(500))
    endpoint_for(user, receiver.url)
    (event_id,) = record_low(user)

    assert deliver(event_id, 1) is not None
    assert deliver(event_id, 1) is None  # the same attempt again (a task run twice)
    assert deliver(event_id, 3) is None  # out of turn
    assert len(receiver.received) == 1


def test_after_the_last_attempt_the_event_is_given_up(user: User, start_server: StartServer):
    receiver = start_server(Answer(500))
    endpoint_for(user, receiver.url)
    (event_id,) = record_low(user)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver(event_id, attempt) is not None
    event = WebhookEvent.objects.get(pk=event_id)
    assert event.status == EventStatus.FAILED and event.attempts == MAX_ATTEMPTS
    assert event.next_attempt_at is None
    assert len(receiver.received) == MAX_ATTEMPTS


def test_rotation_signs_with_both_secrets_for_a_day_then_only_the_new(
    user: User, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint, old = endpoint_for(user, receiver.url)
    endpoint, new = actions.rotate_secret(endpoint)
    assert new != old

    record_low(user)
    run_tasks()
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert signatures_valid_for(during, old) and signatures_valid_for(during, new)

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    record_low(user)
    run_tasks()
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signatures_valid_for(after, new) and not signatures_valid_for(after, old)


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_emailed(
    user: User, start_server: StartServer
):
    receiver = start_server(Answer(502))
    endpoint, _ = endpoint_for(user, receiver.url)
    (first,) = record_low(user)
    deliver(first, 1)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.enabled

    # Four days and 23 hours of failures: still enabled.
    started = timezone.now() - timedelta(days=4, hours=23)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=started)
    (second,) = record_low(user)
    deliver(second, 1)
    endpoint.refresh_from_db()
    assert endpoint.enabled and mail.outbox == []

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    (third,) = record_low(user)
    deliver(third, 1)

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed" in endpoint.disabled_reason
    (message,) = mail.outbox
    assert message.to == [user.email] and endpoint.url in message.body
    # Nothing more is sent to it: the retries already scheduled find it disabled.
    sent = len(receiver.received)
    make_due("deliver_webhook")
    run_tasks()
    assert len(receiver.received) == sent
    assert record_low(user) == []

    endpoint = actions.update_endpoint(endpoint, enabled=True)
    assert endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_a_private_address_is_refused_outside_the_allowance(
    user: User, settings: Settings, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint, _ = endpoint_for(user, receiver.url)
    # The allowance is for tests and local development; without it 127.0.0.1 is refused when
    # sending (and a name that resolves there too: the guard resolves at each delivery).
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=receiver.url.replace("http://127.0.0.1", "https://localhost")
    )
    (event_id,) = record_low(user)
    attempt = deliver(event_id, 1)

    assert attempt is not None and not attempt.succeeded
    assert attempt.error.startswith("Refused:") and "public" in attempt.error
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/",
        "https://[::1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/",
        "http://example.com/",
        "ftp://example.com/",
        "https://user:pw@example.com/",
        "https:///nohost",
        "not a url",
        "https://example.com:99999/",
    ],
)
def test_bad_addresses_are_refused_when_an_endpoint_is_registered(
    user: User, url: str, settings: Settings
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    with pytest.raises(actions.ValidationError):
        actions.create_endpoint(user, url, ["credits.low"])
    assert not WebhookEndpoint.objects.exists()


def test_resend_sends_the_same_message_again_and_a_test_event_reaches_any_endpoint(
    user: User, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint, secret = endpoint_for(user, receiver.url, events=["order.paid"])

    test_event = actions.send_test_event(endpoint)
    run_tasks()
    assert event_of(receiver.received[0])["type"] == "webhook.test"
    actions.resend_event(test_event)
    run_tasks()

    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == test_event.message_id
    assert first.body == again.body
    assert signatures_valid_for(again, secret)
    assert list(
        WebhookDelivery.objects.filter(event=test_event).values_list("attempt", flat=True)
    ) == [2, 1]


def test_the_endpoint_limit_holds(user: User, settings: Settings):
    settings.WEBHOOK_ENDPOINTS_PER_USER = 2
    for _ in range(2):
        actions.create_endpoint(user, "https://example.com/hook", ["credits.low"])
    with pytest.raises(actions.ValidationError, match="already have 2"):
        actions.create_endpoint(user, "https://example.com/hook", ["credits.low"])


def test_test_events_and_resends_cannot_flood_the_queue(user: User):
    endpoint, _ = endpoint_for(user, "https://hooks.example.com")
    events = [actions.send_test_event(endpoint) for _ in range(actions.PENDING_TEST_EVENTS)]
    with pytest.raises(actions.TooManyTestEvents):
        actions.send_test_event(endpoint)
    with pytest.raises(actions.WebhookRefusal, match="being sent"):
        actions.resend_event(events[0])  # still queued
    assert WebhookEvent.objects.count() == actions.PENDING_TEST_EVENTS


def test_old_deliveries_are_pruned_but_not_one_still_retried(
    user: User, settings: Settings, start_server: StartServer
):
    receiver = start_server(Answer(500))
    endpoint_for(user, receiver.url)
    delivered, retried = record_low(user), record_low(user)
    WebhookEvent.objects.filter(pk__in=delivered).update(status=EventStatus.DELIVERED)
    deliver(retried[0], 1)  # failed: waiting for its retry
    WebhookEvent.objects.update(
        created_at=timezone.now() - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS + 1)
    )
    assert actions.prune_deliveries() == "deleted 1 webhook events sent to API users"
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == retried
    assert WebhookDelivery.objects.count() == 1
    assert actions.prune_deliveries().startswith("deleted 0")
