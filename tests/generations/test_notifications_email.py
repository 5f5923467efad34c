"""E-mail when a generation ends: once per generation, several endings in one message, never
for the user's own cancel, and never in the way of the generation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import respx
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from pytest_django import Settings

from generations.lifecycle.output import store_output
from generations.lifecycle.transitions import apply_prediction_update, cancel_generation
from generations.models import Generation, GenerationNotice, Status
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.generations.lifecycle_helpers import (
    make_due,
    post_webhook,
    prediction,
    run_tasks,
    scheduled_tasks,
    submit,
    tiny_mp4,
    update,
)
from wan_pwa.accounts.models import User

SITE = "https://wan.example"
VIDEO_URL = "https://replicate.delivery/xyz/output.mp4"


@pytest.fixture(autouse=True)
def notify_settings(settings: Settings, replicate_settings: None) -> None:
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def emailed_user(user: User) -> User:
    user.notify_by_email = True
    user.save(update_fields=["notify_by_email"])
    return user


@pytest.fixture
def delivery(replicate_api: ReplicateAPI) -> respx.Route:
    replicate_api.cancel_any()
    route = replicate_api.download(VIDEO_URL)
    route.respond(200, content=tiny_mp4(), headers={"Content-Type": "video/mp4"})
    return route


def send_due_notifications() -> None:
    """The batching window is over: the notification tasks run now."""
    make_due("send_notifications")
    run_tasks()


def started(user: User, prediction_id: str) -> Generation:
    """Submitted and accepted by Replicate (so its submit task has nothing left to do)."""
    generation = submit(user, seed=int(prediction_id.removeprefix("p-")))
    apply_prediction_update(generation.pk, update(prediction_id, "processing"))
    return generation


def succeed(generation: Generation, prediction_id: str) -> None:
    apply_prediction_update(generation.pk, update(prediction_id, "succeeded", output=VIDEO_URL))
    run_tasks()  # copies the video: only then is it succeeded


def fail(generation: Generation, prediction_id: str) -> None:
    apply_prediction_update(
        generation.pk, update(prediction_id, "failed", error="CUDA out of memory")
    )


def test_a_succeeded_generation_is_emailed_once_with_its_link_despite_duplicate_webhooks(
    client: Client, emailed_user: User, delivery: respx.Route
):
    generation = submit(emailed_user)
    done = prediction("p-1", "succeeded", output=VIDEO_URL)
    for _ in range(2):  # Replicate delivers the same news twice, under different ids
        assert post_webhook(client, generation, done).status_code < 300
    run_tasks()
    for _ in range(2):
        assert post_webhook(client, generation, done).status_code < 300
    assert not store_output(generation.pk, video_name="late.mp4", poster_name="late.jpg")
    # One message is scheduled, after the batching window.
    assert len(scheduled_tasks("send_notifications")) == 1
    assert mail.outbox == []

    send_due_notifications()
    send_due_notifications()

    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [emailed_user.email]
    assert message.subject == "Your video is ready"
    assert f"{SITE}/generations/{generation.pk}/" in message.body
    assert GenerationNotice.objects.get().sent_at is not None


def test_a_failed_generation_is_emailed_with_the_refund(client: Client, emailed_user: User):
    generation = submit(emailed_user)
    failed = prediction("p-1", "failed", error="CUDA out of memory")
    post_webhook(client, generation, failed)
    post_webhook(client, generation, failed)

    send_due_notifications()

    (message,) = mail.outbox
    assert message.subject == "Your video could not be made"
    assert "The model failed while making the video." in message.body
    assert "CUDA" not in message.body  # the provider's words are for staff
    assert f"Its {generation.cost} credits were refunded." in message.body
    assert f"{SITE}/generations/{generation.pk}/" in message.body


def test_several_endings_in_the_window_make_one_message(emailed_user: User, delivery):
    first, second, third = (started(emailed_user, f"p-{n}") for n in (1, 2, 3))
    succeed(first, "p-1")
    succeed(second, "p-2")
    fail(third, "p-3")
    assert len(scheduled_tasks("send_notifications")) == 3

    send_due_notifications()

    (message,) = mail.outbox
    assert message.subject == "2 videos are ready, 1 failed"
    for generation in (first, second, third):
        assert f"{SITE}/generations/{generation.pk}/" in message.body


def test_three_videos_ready_are_announced_together(emailed_user: User, delivery):
    generations = [started(emailed_user, f"p-{n}") for n in (1, 2, 3)]
    for n, generation in enumerate(generations, start=1):
        succeed(generation, f"p-{n}")
    send_due_notifications()
    assert [m.subject for m in mail.outbox] == ["3 videos are ready"]


def test_an_ending_after_the_message_went_out_gets_its_own(emailed_user: User, delivery):
    succeed(started(emailed_user, "p-1"), "p-1")
    send_due_notifications()
    fail(started(emailed_user, "p-2"), "p-2")
    send_due_notifications()
    assert [m.subject for m in mail.outbox] == [
        "Your video is ready",
        "Your video could not be made",
    ]


def test_the_users_own_cancel_is_not_notified(emailed_user: User, replicate_api: ReplicateAPI):
    replicate_api.cancel_any()
    generation = started(emailed_user, "p-1")
    cancel_generation(generation)
    run_tasks()
    send_due_notifications()
    assert mail.outbox == []
    assert not GenerationNotice.objects.exists()
    assert scheduled_tasks("send_notifications") == []


def test_no_email_unless_the_user_asked_for_it(user: User):
    fail(started(user, "p-1"), "p-1")
    send_due_notifications()
    assert mail.outbox == []


class BrokenMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError("the SMTP server is down")


def test_a_mail_failure_neither_fails_the_generation_nor_the_task(
    settings: Settings,
    emailed_user: User,
    delivery: respx.Route,
    caplog: pytest.LogCaptureFixture,
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailBackend"
    generation = started(emailed_user, "p-1")
    succeed(generation, "p-1")
    send_due_notifications()  # run_tasks fails the test if a task raised
    generation.refresh_from_db()
    assert generation.status == Status.SUCCEEDED
    assert "Could not e-mail" in caplog.text


def test_the_message_waits_for_the_batching_window(
    settings: Settings, emailed_user: User, delivery: respx.Route
):
    settings.NOTIFICATION_BATCH_SECONDS = 20
    succeed(started(emailed_user, "p-1"), "p-1")
    (task,) = scheduled_tasks("send_notifications")
    notice: Callable[[], GenerationNotice] = GenerationNotice.objects.get
    assert 15 < (task.run_after - notice().created_at).total_seconds() <= 21
    run_tasks()
    assert mail.outbox == []  # not due yet


def test_while_more_videos_run_the_message_waits_to_tell_them_all_at_once(
    emailed_user: User, delivery: respx.Route
):
    first, second = started(emailed_user, "p-1"), started(emailed_user, "p-2")
    succeed(first, "p-1")
    send_due_notifications()
    assert mail.outbox == []  # the second is still running
    succeed(second, "p-2")
    send_due_notifications()
    assert [m.subject for m in mail.outbox] == ["2 videos are ready"]


def test_a_held_message_goes_out_once_the_user_cancels_the_rest(
    emailed_user: User, delivery: respx.Route
):
    first, second = started(emailed_user, "p-1"), started(emailed_user, "p-2")
    succeed(first, "p-1")
    send_due_notifications()
    cancel_generation(second)  # ends it without a notice, so without a task of its own
    send_due_notifications()
    assert [m.subject for m in mail.outbox] == ["Your video is ready"]


def test_a_message_is_held_no_longer_than_the_maximum(
    settings: Settings, emailed_user: User, delivery: respx.Route
):
    settings.NOTIFICATION_MAX_HOLD_SECONDS = 0
    first, _still_running = started(emailed_user, "p-1"), started(emailed_user, "p-2")
    succeed(first, "p-1")
    send_due_notifications()
    assert [m.subject for m in mail.outbox] == ["Your video is ready"]
