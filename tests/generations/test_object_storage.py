"""Files in S3-compatible object storage (moto's S3 server over real HTTP): uploads, the output
copy and posters go straight to a private bucket, owners and share links reach them through a
short-lived presigned redirect that serves ranges and downloads, and deletes remove the objects."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av
import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone
from storages.backends.s3 import S3Storage

from generations import retention
from generations.actions.sharing import enable_sharing, revoke_sharing
from generations.lifecycle.transitions import apply_prediction_update
from generations.models import Generation, Status
from generations.simulator import render_video
from tests.factories import VIDEO_BYTES, make_generation
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.fixtures.object_storage import Bucket, storage_settings
from tests.generations.lifecycle_helpers import (
    png,
    refunds_of,
    run_tasks,
    submit,
    update,
)

pytestmark = pytest.mark.usefixtures("object_storage")

VIDEO_URL = "https://replicate.delivery/xyz/output.mp4"


@pytest.fixture
def delivery(replicate_api: ReplicateAPI) -> respx.Route:
    """Replicate's file delivery, answering what each test tells it."""
    return replicate_api.download(VIDEO_URL)


@pytest.fixture
def finished(user) -> Generation:
    """A generation Replicate reports succeeded, its copy enqueued."""
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-1", "processing"))
    apply_prediction_update(generation.pk, update("p-1", "succeeded", output=VIDEO_URL))
    return generation


def files_on_disk(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()]


def presigned(response) -> tuple[str, dict[str, list[str]]]:
    """The redirect's target and its query, after checking it is a presigned, uncached one."""
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    return location, parse_qs(urlsplit(location).query)


def test_settings_name_a_private_presigning_bucket_only_when_one_is_set(
    bucket: Bucket, monkeypatch
):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    assert storage_settings({}, monkeypatch) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    configured = storage_settings(bucket.environment(AWS_QUERYSTRING_EXPIRE="30"), monkeypatch)
    assert configured["BACKEND"] == "storages.backends.s3.S3Storage"
    options = configured["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == (bucket.name, bucket.endpoint_url)
    assert (options["default_acl"], options["querystring_auth"]) == (None, True)
    assert options["querystring_expire"] == 30


def test_an_uploaded_input_image_goes_straight_to_the_bucket(
    object_storage: Bucket, user, isolated_media
):
    image = png()
    sent = image.read()
    generation = submit(user, model_key="i2v-14B", image=image)

    assert isinstance(generation.input_image.storage, S3Storage)
    assert object_storage.keys() == {generation.input_image.name}
    assert object_storage.read(generation.input_image.name) == sent
    assert files_on_disk(isolated_media) == []


def test_the_copied_video_and_poster_are_in_the_bucket_before_the_generation_succeeds(
    object_storage: Bucket, finished, delivery: respx.Route, isolated_media
):
    video = render_video("A calm lake", 64, 48, frames=5)  # its index first: stored as it is
    delivery.respond(200, content=video, headers={"Content-Type": "video/mp4"})

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.SUCCEEDED
    assert object_storage.keys() == {finished.video.name, finished.poster.name}
    assert object_storage.read(finished.video.name) == video
    with av.open(io.BytesIO(object_storage.read(finished.video.name)), "r") as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    head = object_storage.client.head_object(Bucket=object_storage.name, Key=finished.video.name)
    assert head["ContentType"] == "video/mp4"
    assert files_on_disk(isolated_media) == []  # the temporary download is gone too


def test_an_output_that_does_not_decode_never_reaches_the_bucket(
    object_storage: Bucket, finished, delivery: respx.Route
):
    delivery.respond(200, content=b"not a video at all", headers={"Content-Type": "video/mp4"})

    run_tasks()

    finished.refresh_from_db()
    assert finished.status == Status.FAILED and refunds_of(finished) == 1
    assert object_storage.keys() == set()


def test_the_owner_is_redirected_to_a_short_lived_url_that_serves_byte_ranges(
    object_storage: Bucket, logged_in: Client, user
):
    generation = make_generation(user)

    location, query = presigned(logged_in.get(f"/generations/{generation.pk}/files/video"))

    assert location.startswith(f"{object_storage.endpoint_url}/{object_storage.name}/")
    assert query["X-Amz-Expires"] == ["60"] and query["X-Amz-Signature"]
    whole = httpx.get(location)
    assert (whole.status_code, whole.content) == (200, VIDEO_BYTES)
    assert whole.headers["Content-Type"] == "video/mp4"
    part = httpx.get(location, headers={"Range": "bytes=100-199"})
    assert (part.status_code, part.content) == (206, VIDEO_BYTES[100:200])
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(VIDEO_BYTES)}"


def test_a_download_is_an_attachment_named_after_the_generation(
    object_storage: Bucket, logged_in: Client, user
):
    generation = make_generation(user)

    location, _ = presigned(logged_in.get(f"/generations/{generation.pk}/files/video?download=1"))

    answer = httpx.get(location)
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="wan-{generation.pk}.mp4"'
    )
    assert answer.content == VIDEO_BYTES


def test_the_api_download_redirects_and_a_missing_object_is_a_conflict(
    object_storage: Bucket, api, user
):
    generation = make_generation(user)

    location, query = presigned(api.get(f"/api/v1/generations/{generation.pk}/video/"))
    assert query["response-content-disposition"] == [
        f'attachment; filename="wan-{generation.pk}.mp4"'
    ]
    assert httpx.get(location).content == VIDEO_BYTES

    object_storage.client.delete_object(Bucket=object_storage.name, Key=generation.video.name)
    missing = api.get(f"/api/v1/generations/{generation.pk}/video/")
    assert (missing.status_code, missing.json()["error"]["code"]) == (409, "video_missing")


def test_other_users_get_no_url_for_any_file(object_storage: Bucket, user, other_user):
    generation = make_generation(user, model_key="i2v-14B")
    stranger = Client()
    stranger.force_login(other_user)

    for kind in ("video", "poster", "input"):
        answer = stranger.get(f"/generations/{generation.pk}/files/{kind}")
        assert answer.status_code == 404 and "Location" not in answer


def test_a_share_link_redirects_to_video_and_poster_until_it_is_revoked(
    object_storage: Bucket, user
):
    generation = enable_sharing(make_generation(user, model_key="i2v-14B"))
    visitor = Client()
    token = generation.share_token

    location, _ = presigned(visitor.get(f"/s/{token}/video"))
    assert httpx.get(location).content == VIDEO_BYTES
    presigned(visitor.get(f"/s/{token}/poster"))
    assert visitor.get(f"/s/{token}/input").status_code == 404  # never shared

    revoke_sharing(generation)
    assert visitor.get(f"/s/{token}/video").status_code == 404
    assert visitor.get(f"/s/{token}/poster").status_code == 404


def test_nothing_in_the_bucket_is_readable_without_a_signature(object_storage: Bucket, user):
    generation = make_generation(user, model_key="i2v-14B")

    for stored in (generation.video, generation.poster, generation.input_image):
        unsigned = httpx.get(f"{object_storage.endpoint_url}/{object_storage.name}/{stored.name}")
        assert unsigned.status_code == 403
        acl = object_storage.client.get_object_acl(Bucket=object_storage.name, Key=stored.name)
        assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]
        assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"  # the owner alone


def test_pages_allow_media_from_the_bucket_origin_only(
    object_storage: Bucket, logged_in: Client, user
):
    generation = make_generation(user)

    policy = logged_in.get(f"/generations/{generation.pk}/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["media-src"] == f"'self' blob: {object_storage.endpoint_url}"
    assert directives["img-src"] == f"'self' data: blob: {object_storage.endpoint_url}"
    assert directives["connect-src"] == "'self'"


def test_deleting_a_generation_removes_its_objects(
    object_storage: Bucket, logged_in: Client, user, django_capture_on_commit_callbacks
):
    generation = make_generation(user, model_key="i2v-14B")
    kept = make_generation(user)
    assert len(object_storage.keys()) == 5

    with django_capture_on_commit_callbacks(execute=True):
        answer = logged_in.post(f"/generations/{generation.pk}/delete/")

    assert answer.status_code == 302
    assert object_storage.keys() == {kept.video.name, kept.poster.name}
    assert Generation.objects.get(pk=generation.pk).deleted_at is not None


def test_the_bulk_zip_reads_each_video_from_the_bucket(
    object_storage: Bucket, logged_in: Client, user
):
    first, second = make_generation(user), make_generation(user, video=b"second video")

    answer = logged_in.post("/history/bulk/", {"action": "download", "ids": [first.pk, second.pk]})

    archive = zipfile.ZipFile(io.BytesIO(answer.getvalue()))
    assert archive.read(f"wan-{first.pk}.mp4") == VIDEO_BYTES
    assert archive.read(f"wan-{second.pk}.mp4") == b"second video"


def test_retention_removes_expired_and_orphan_objects_from_the_bucket(
    object_storage: Bucket, user, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_RETENTION_DAYS = 90
    settings.STORAGE_EXPIRY_NOTICE_DAYS = 7
    settings.ORPHAN_FILE_GRACE_HOURS = 24
    expired, kept = make_generation(user), make_generation(user)
    Generation.objects.filter(pk=expired.pk).update(
        completed_at=timezone.now() - timedelta(days=100)
    )
    object_storage.client.put_object(Bucket=object_storage.name, Key="videos/orphan.mp4", Body=b"x")
    later = timezone.now() + timedelta(days=8)  # past the owner's notice and the grace period

    with django_capture_on_commit_callbacks(execute=True):
        retention.apply_retention(timezone.now())  # dates the deletion, a notice ahead
        retention.apply_retention(later)

    assert object_storage.keys() == {kept.video.name, kept.poster.name}
