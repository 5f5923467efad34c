"""Copying the finished video into our storage: only then is a generation succeeded."""

from __future__ import annotations

import io

import av
import httpx
import pytest
import respx
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from credits.selectors import balance_of
from generations.failures import FailureReason
from generations.lifecycle.output import store_output
from generations.lifecycle.transitions import (
    apply_prediction_update,
    cancel_generation,
    mark_failed,
)
from generations.models import Generation, Status
from generations.simulator import render_video
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.generations.lifecycle_helpers import (
    refunds_of,
    run_tasks,
    scheduled_tasks,
    stored_files,
    submit,
    tiny_mp4,
    update,
)
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.usefixtures("replicate_settings")

VIDEO_URL = "https://replicate.delivery/xyz/output.mp4"


@pytest.fixture
def delivery(replicate_api: ReplicateAPI) -> respx.Route:
    """The finished video at Replicate's file delivery (canceling at Replicate is answered)."""
    replicate_api.cancel_any()
    return replicate_api.download(VIDEO_URL)


@pytest.fixture
def finished(user: User) -> Generation:
    """A generation Replicate reports succeeded, its copy enqueued."""
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-1", "processing"))
    apply_prediction_update(generation.pk, update("p-1", "succeeded", output=VIDEO_URL))
    return generation


def test_the_video_and_a_poster_are_stored_then_the_generation_succeeds(
    finished, delivery, isolated_media, assert_audit_clean
):
    video = render_video("A calm lake", 64, 48, frames=5)  # its index first: stored as it is
    delivery.respond(200, content=video, headers={"Content-Type": "video/mp4"})

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.SUCCEEDED
    assert finished.is_ready
    assert (finished.progress, finished.completed_at is not None) == (100, True)
    with finished.video.open("rb") as stored:
        assert stored.read() == video
    with av.open(finished.video.path) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    with Image.open(finished.poster.path) as poster:
        assert (poster.format, poster.size) == ("JPEG", (64, 48))
    assert refunds_of(finished) == 0
    assert balance_of(finished.user) == 95
    assert_audit_clean()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(404), "no longer has the video"),
        (httpx.Response(410), "no longer has the video"),
        (httpx.Response(403), "refused"),
        (httpx.Response(200, content=b"<html>not a video</html>"), "not a readable video"),
        (httpx.Response(200, content=b""), "not a readable video"),
    ],
)
def test_an_output_that_cannot_be_copied_fails_and_refunds(
    finished, delivery, isolated_media, assert_audit_clean, response, reason
):
    delivery.mock(return_value=response)

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED
    assert finished.failure_reason == FailureReason.OUTPUT_NOT_SAVED
    assert reason in finished.failure_detail
    assert not finished.video
    assert refunds_of(finished) == 1
    assert balance_of(finished.user) == 100
    assert stored_files(isolated_media) == []
    assert_audit_clean()


def test_an_image_instead_of_a_video_is_refused(finished, delivery, isolated_media):
    png = io.BytesIO()
    Image.new("RGB", (64, 48)).save(png, "PNG")
    delivery.respond(200, content=png.getvalue())

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED
    assert finished.failure_reason == FailureReason.OUTPUT_NOT_SAVED
    assert finished.failure_detail == "The output is not an MP4 video."


def test_a_video_over_the_size_cap_is_refused_while_streaming(
    finished, delivery, settings, isolated_media
):
    settings.OUTPUT_MAX_BYTES = 500
    delivery.respond(200, content=tiny_mp4(frames=8))

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED
    assert "larger than" in finished.failure_detail
    assert refunds_of(finished) == 1
    assert stored_files(isolated_media) == []


def test_a_transient_download_error_is_retried(finished, delivery):
    delivery.mock(
        side_effect=[
            httpx.Response(503),
            httpx.ConnectError("reset"),
            httpx.Response(200, content=tiny_mp4()),
        ]
    )

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.SUCCEEDED
    assert delivery.call_count == 3


def test_a_download_failing_every_time_ends_in_a_refund(finished, delivery, settings):
    settings.OUTPUT_COPY_MAX_ATTEMPTS = 2
    delivery.respond(502)

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED
    assert delivery.call_count == 2
    assert refunds_of(finished) == 1


def test_a_copy_arriving_after_the_generation_ended_is_discarded(
    finished, delivery, isolated_media, django_capture_on_commit_callbacks
):
    delivery.respond(200, content=tiny_mp4())
    run_tasks()
    finished.refresh_from_db()
    # A second copy (say the watchdog's) that finished downloading just after the first.
    late_video = default_storage.save("videos/late.mp4", ContentFile(tiny_mp4()))
    late_poster = default_storage.save("posters/late.jpg", ContentFile(b"jpeg"))

    with django_capture_on_commit_callbacks(execute=True):
        stored = store_output(finished.pk, video_name=late_video, poster_name=late_poster)

    assert stored is False
    finished.refresh_from_db()
    assert stored_files(isolated_media) == sorted([finished.video.name, finished.poster.name])


def test_a_copy_queued_before_the_generation_was_given_up_does_nothing(
    finished, delivery, isolated_media
):
    mark_failed(finished.pk, FailureReason.TIMED_OUT)
    delivery.respond(200, content=tiny_mp4())

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED
    assert delivery.call_count == 0
    assert stored_files(isolated_media) == []
    assert refunds_of(finished) == 1


def test_a_generation_canceled_before_its_copy_runs_keeps_no_files(
    user, delivery, isolated_media, assert_audit_clean
):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-1", "processing"))
    cancel_generation(generation)
    apply_prediction_update(generation.pk, update("p-1", "succeeded", output=VIDEO_URL))
    delivery.respond(200, content=tiny_mp4())

    run_tasks()

    generation.refresh_from_db()
    assert generation.status == Status.CANCELED
    assert not scheduled_tasks("copy_output")
    assert delivery.call_count == 0
    assert stored_files(isolated_media) == []
    assert_audit_clean()
