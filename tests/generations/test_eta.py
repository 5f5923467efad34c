"""The ETA of an in-flight generation, against a seeded history with known timings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generations import eta
from generations.models import Generation, Status
from tests.factories import api_client, make_generation
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db

# The seeded t2v-14B 480p history: 30 s waiting for a slot, then these runs (median 120 s).
WAIT = 30
RUNS = (100, 110, 120, 130, 400)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    eta.clear_cache()
    yield
    eta.clear_cache()


def _timed(generation: Generation, *, created_ago: float, started_ago: float | None) -> Generation:
    now = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(
        created_at=now - timedelta(seconds=created_ago),
        started_at=None if started_ago is None else now - timedelta(seconds=started_ago),
    )
    generation.refresh_from_db()
    return generation


@pytest.fixture
def history(user: User) -> None:
    now = timezone.now()
    for index, run in enumerate(RUNS):
        done = make_generation(user)
        completed = now - timedelta(minutes=10 + index)
        started = completed - timedelta(seconds=run)
        Generation.objects.filter(pk=done.pk).update(
            created_at=started - timedelta(seconds=WAIT), started_at=started, completed_at=completed
        )
    # Other models, resolutions and failures say nothing about t2v-14B 480p.
    for other in (
        make_generation(user, resolution="720p"),
        make_generation(user, status=Status.FAILED),
    ):
        Generation.objects.filter(pk=other.pk).update(
            started_at=now - timedelta(seconds=2000), completed_at=now
        )


def _running(user: User, *, progress: int, started_ago: float, **fields) -> Generation:
    generation = make_generation(user, status=Status.PROCESSING, progress=progress, **fields)
    return _timed(generation, created_ago=started_ago + WAIT, started_ago=started_ago)


def test_a_queued_generation_waits_the_typical_wait_left_then_runs_the_median_run(history, user):
    queued = _timed(make_generation(user, status=Status.QUEUED), created_ago=10, started_ago=None)
    assert eta.remaining_seconds(queued) == pytest.approx((WAIT - 10) + 120, abs=1)


def test_early_on_the_median_run_decides(history, user):
    running = _running(user, progress=2, started_ago=20)
    assert eta.remaining_seconds(running) == pytest.approx(100, abs=1)


def test_its_own_pace_counts_as_much_as_its_progress(history, user):
    # Half done in 30 s: its pace says 30 s more, the history 90 s more; blended half and half.
    running = _running(user, progress=50, started_ago=30)
    assert eta.remaining_seconds(running) == pytest.approx(0.5 * 30 + 0.5 * 90, abs=1)


def test_without_history_only_its_own_pace_is_used(history, user):
    running = _running(user, progress=20, started_ago=40, model_key="t2v-1.3B")
    assert eta.remaining_seconds(running) == pytest.approx(160, abs=1)


def test_unknown_without_history_or_progress_and_none_once_ended(history, user):
    unknown = _running(user, progress=0, started_ago=5, model_key="t2v-1.3B")
    assert eta.remaining_seconds(unknown) is None
    assert eta.remaining_seconds(make_generation(user)) is None
    no_history = make_generation(user, status=Status.QUEUED, model_key="t2v-1.3B")
    assert eta.remaining_seconds(no_history) is None


def test_the_api_gives_eta_seconds_and_null_once_ended(history, user):
    running = _running(user, progress=50, started_ago=30)
    client = api_client(user=user)
    body = client.get(f"/api/v1/generations/{running.pk}/").json()
    assert body["eta_seconds"] == pytest.approx(60, abs=2)
    done = make_generation(user)
    assert client.get(f"/api/v1/generations/{done.pk}/").json()["eta_seconds"] is None


def test_card_and_detail_show_the_eta(history, user, logged_in: Client):
    running = _running(user, progress=2, started_ago=20)  # about 100 s left
    for name in ("generation-card", "detail"):
        page = logged_in.get(reverse(name, args=[running.pk])).content.decode()
        assert "Ready in about 2 min" in page


def test_a_poll_is_answered_again_when_the_shown_eta_changes_with_time(history, user, logged_in):
    running = _running(user, progress=2, started_ago=20)
    url = reverse("generation-card", args=[running.pk])
    first = logged_in.get(url, HTTP_HX_REQUEST="true")
    unchanged = logged_in.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304
    # A minute later, with no change to the row: the card now says less than a minute.
    assert running.started_at is not None
    Generation.objects.filter(pk=running.pk).update(
        started_at=running.started_at - timedelta(seconds=60)
    )
    later = logged_in.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200
    assert "Ready in less than a minute" in later.content.decode()


def test_the_history_is_of_the_same_clip_length_when_there_is_one(user: User):
    now = timezone.now()
    for frames, run in ((17, 40), (81, 200)):
        done = make_generation(user, model_key="t2v-1.3B", options={"frame_num": frames})
        Generation.objects.filter(pk=done.pk).update(
            created_at=now - timedelta(seconds=run + 100),
            started_at=now - timedelta(seconds=run + 100),
            completed_at=now - timedelta(seconds=100),
        )
    short, long, other = (
        _running(user, progress=0, started_ago=10, model_key="t2v-1.3B", options=options)
        for options in ({"frame_num": 17}, {"frame_num": 81}, {"frame_num": 49})
    )
    assert eta.remaining_seconds(short) == pytest.approx(30, abs=1)
    assert eta.remaining_seconds(long) == pytest.approx(190, abs=1)
    # No history of 49 frames yet: every length of the model and resolution counts.
    assert eta.remaining_seconds(other) == pytest.approx(120 - 10, abs=1)
