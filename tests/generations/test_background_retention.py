"""Storage retention: files of ended generations get a deletion date the owner sees at least
the notice period ahead, are deleted once it has passed and not before, in-flight and deleted
generations are left alone, orphan files are swept after a grace period, and storage_report
sums it all up."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from credits.models import CreditTransaction
from generations import retention
from generations.actions.deletion import delete_generation
from generations.actions.errors import CannotRetry
from generations.actions.sharing import enable_sharing
from generations.lifecycle.submission import retry_generation
from generations.models import Generation, Status
from tests.factories import make_generation, make_user
from wan_pwa.background import scheduler

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def retention_settings(settings):
    settings.INPUT_IMAGE_RETENTION_DAYS = 30
    settings.VIDEO_RETENTION_DAYS = 90
    settings.STORAGE_EXPIRY_NOTICE_DAYS = 7
    settings.ORPHAN_FILE_GRACE_HOURS = 24


def ended(generation: Generation, days_ago: float) -> Generation:
    Generation.objects.filter(pk=generation.pk).update(completed_at=timezone.now() - days_ago * DAY)
    generation.refresh_from_db()
    return generation


def files_of(generation: Generation) -> list[Path]:
    return [
        Path(f.path) for f in (generation.input_image, generation.video, generation.poster) if f
    ]


def test_retention_deletes_exactly_what_it_should():
    now = timezone.now()
    user = make_user()
    old_video = enable_sharing(ended(make_generation(user), 100))
    fresh_video = ended(make_generation(user), 1)
    old_input = ended(make_generation(user, status=Status.FAILED, model_key="i2v-14B"), 40)
    fresh_i2v = ended(make_generation(user, model_key="i2v-14B"), 1)
    running = make_generation(user, status=Status.PROCESSING, model_key="i2v-14B")
    deleted = ended(make_generation(user), 200)
    delete_generation(deleted)
    every_file = [
        path
        for g in (old_video, fresh_video, old_input, fresh_i2v, running)
        for path in files_of(g)
    ]
    ledger_rows = CreditTransaction.objects.count()

    # First pass: everything dated, nothing deleted; the overdue ones get the notice period.
    retention.apply_retention(now)
    for generation in (old_video, fresh_video, old_input, fresh_i2v, running, deleted):
        generation.refresh_from_db()
    assert fresh_video.completed_at is not None and fresh_i2v.completed_at is not None
    assert old_video.video_expires_at == now + 7 * DAY
    assert fresh_video.video_expires_at == fresh_video.completed_at + 90 * DAY
    assert old_input.input_image_expires_at == now + 7 * DAY
    assert fresh_i2v.input_image_expires_at == fresh_i2v.completed_at + 30 * DAY
    assert fresh_i2v.video_expires_at == fresh_i2v.completed_at + 90 * DAY
    assert running.input_image_expires_at is None and deleted.video_expires_at is None
    assert all(path.exists() for path in every_file)

    # A day before the notice ends: still nothing. After: exactly the two overdue files go.
    kinds = len(retention.retention_days())
    assert retention.apply_retention(now + 6 * DAY).count("0 removed") == kinds
    later = now + 8 * DAY
    summary = retention.apply_retention(later)
    assert "input_image: 0 dated, 1 removed" in summary and "video: 0 dated, 1 removed" in summary
    gone = files_of(old_video) + files_of(old_input)
    for generation in (old_video, fresh_video, old_input, fresh_i2v, running):
        generation.refresh_from_db()
    assert not old_video.video and not old_video.poster and old_video.share_token is None
    assert old_video.status == Status.SUCCEEDED
    assert not old_input.input_image
    assert all(not path.exists() for path in gone)
    kept = [path for path in every_file if path not in gone]
    assert kept and all(path.exists() for path in kept)
    assert files_of(fresh_i2v) and files_of(running) and files_of(fresh_video)
    assert CreditTransaction.objects.count() == ledger_rows

    # Idempotent: the same pass again finds nothing.
    assert retention.apply_retention(later).count("0 removed") == kinds


def test_the_card_and_the_detail_page_show_the_date_before_and_after(client):
    user = make_user()
    client.force_login(user)
    generation = ended(make_generation(user, model_key="i2v-14B"), 1)
    now = timezone.now()
    retention.apply_retention(now)
    generation.refresh_from_db()
    assert generation.video_expires_at is not None
    day = f"{generation.video_expires_at:%-d %b %Y}"
    for url in (reverse("detail", args=[generation.pk]), reverse("history")):
        page = client.get(url).content.decode()
        assert "Video kept until <time datetime=" in page and day in page
        assert "Input image kept until" in page
    retention.apply_retention(generation.video_expires_at + DAY)
    page = client.get(reverse("detail", args=[generation.pk])).content.decode()
    assert "The video was removed on" in page and day in page
    assert client.get(reverse("generation-file", args=[generation.pk, "video"])).status_code == 404


def test_turning_video_retention_off_takes_the_dates_off(settings):
    generation = ended(make_generation(make_user()), 1)
    retention.apply_retention()
    generation.refresh_from_db()
    assert generation.video_expires_at is not None
    settings.VIDEO_RETENTION_DAYS = 0
    assert "video: kept (1 undated)" in retention.apply_retention()
    generation.refresh_from_db()
    assert generation.video_expires_at is None


def test_a_generation_whose_input_expired_cannot_be_retried():
    generation = ended(make_generation(make_user(), status=Status.FAILED, model_key="i2v-14B"), 40)
    now = timezone.now()
    retention.apply_retention(now)
    retention.apply_retention(now + 8 * DAY)
    generation.refresh_from_db()
    assert not generation.can_retry
    with pytest.raises(CannotRetry, match="input image has expired"):
        retry_generation(generation)


def test_orphans_are_swept_after_the_grace_period_only():
    kept = make_generation(make_user())
    storage = retention.storage()
    old_orphan = storage.save("videos/lost.mp4", ContentFile(b"x" * 10))
    young_orphan = storage.save("inputs/uploading.png", ContentFile(b"y"))
    two_days_ago = (timezone.now() - 2 * DAY).timestamp()
    for name in (old_orphan, kept.video.name, kept.poster.name):
        os.utime(storage.path(name), (two_days_ago, two_days_ago))
    assert retention.sweep_orphans(timezone.now()) == 1
    assert not storage.exists(old_orphan)
    assert storage.exists(young_orphan) and storage.exists(kept.video.name)


def test_storage_report_prints_usage_by_kind_and_the_top_users():
    heavy, light = make_user("heavy"), make_user("light")
    make_generation(heavy, video=b"v" * 50_000, model_key="i2v-14B")
    make_generation(light, video=b"v" * 10)
    retention.storage().save("videos/stray.mp4", ContentFile(b"z"))
    out = io.StringIO()
    call_command("storage_report", "--top", "1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["kind", "files", "size", "orphans"]
    video_line = next(line for line in lines if line.startswith("video "))
    assert video_line.split()[1] == "3" and video_line.split()[-1] == "1"
    assert lines[-1].startswith("heavy ")
    assert not any(line.startswith("light ") for line in lines)
    with pytest.raises(CommandError, match="--top must be at least 1"):
        call_command("storage_report", "--top", "0")


def test_storage_retention_runs_as_a_periodic_job():
    job = scheduler.JOBS.get("storage_retention")
    assert job in scheduler.periodic_jobs()
    assert "orphan file(s) swept" in str(job.call())
