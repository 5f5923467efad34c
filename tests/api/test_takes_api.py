"""Takes over the REST API: a source (one of the user's finished videos, or an upload decoded
for real), the operation, the refusals, and `parent`, `operation` and `takes` on a generation."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import av
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.actions.deletion import delete_generation
from generations.actions.params import reused_params
from generations.catalog import SourceLimits
from generations.lifecycle.submission import submit_generation
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation, Status
from generations.operations import Operation
from generations.replicate.inputs import prediction_input
from generations.retention import apply_retention
from generations.source_videos import clean_source_video
from tests.factories import clip_bytes, make_generation, png_bytes

if TYPE_CHECKING:  # what the API client answers, named in the DRF stubs only
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
EDIT = {
    "model_key": "edit-2.7",
    "resolution": "720p",
    "operation": "edit",
    "prompt": "Make it a snowy winter evening",
}
NOT_A_VIDEO = "This file is not a readable MP4, MOV or WebM video."
NO_SOURCE = "No finished video of yours has this id."


def source_of(user, seconds: float = 3.0, **fields: Any) -> Generation:
    """A finished video of the user's, `seconds` long (a real MP4)."""
    return make_generation(user, video=clip_bytes(seconds), **fields)


def upload(data: bytes, name: str = "clip.mp4") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="video/mp4")


def field_errors(response: ApiResponse) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def test_an_edit_of_a_video_of_ones_own_is_a_take_charged_by_the_seconds_it_follows(api, user):
    source = source_of(user, seconds=3.0)
    before = balance_of(user)

    response = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["operation"], body["parent"], body["kind"]) == ("edit", source.pk, "v2v")
    assert body["has_source_video"] is True
    # $0.10 a second of output: 20 credits per five seconds, and the output is the source's 3 s.
    assert body["cost"] == 12
    charged = CreditTransaction.objects.get(
        generation_id=body["id"], type=TransactionType.DEDUCTION
    )
    assert -charged.amount == body["cost"] == before - balance_of(user)
    take = Generation.objects.get(pk=body["id"])
    with av.open(take.input_video.open("rb")) as container:  # its own copy, an H.264 MP4
        assert container.streams.video[0].codec_context.name == "h264"
    assert api.get(f"{URL}{source.pk}/").json()["takes"] == [take.pk]


def test_a_chosen_length_is_what_is_charged_and_may_not_pass_the_source(api, user):
    source = source_of(user, seconds=4.0)

    two = api.post(URL, {**EDIT, "source_generation": source.pk, "duration": 2}, format="json")
    assert (two.status_code, two.json()["cost"]) == (201, 8)
    longer = api.post(URL, {**EDIT, "source_generation": source.pk, "duration": 6}, format="json")
    assert field_errors(longer) == {
        "duration": [
            "The source is 4.0 s long: choose at most that, or leave the length unset to keep "
            "all of it."
        ]
    }


def test_an_uploaded_webm_becomes_an_h264_mp4_source(api, user):
    response = api.post(
        URL, {**EDIT, "video": upload(clip_bytes(3.0, fmt="webm"), "clip.webm")}, format="multipart"
    )

    assert response.status_code == 201, response.content
    take = Generation.objects.get(pk=response.json()["id"])
    assert take.parent is None and take.operation == Operation.EDIT
    assert take.input_video.name.startswith("sources/") and take.input_video.name.endswith(".mp4")
    with av.open(take.input_video.open("rb")) as container:
        assert "mp4" in container.format.name
        assert container.streams.video[0].codec_context.name == "h264"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (png_bytes, NOT_A_VIDEO),
        (lambda: b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 5000, NOT_A_VIDEO),
        (
            lambda: clip_bytes(12.0),
            "The source video must be between 2 and 10 seconds long for this model; this one "
            "is 12.0 s.",
        ),
        (
            lambda: clip_bytes(1.0),
            "The source video must be between 2 and 10 seconds long for this model; this one "
            "is 1.0 s.",
        ),
        (
            lambda: clip_bytes(2.0, (4112, 240), fps=2),
            "The source video is 4112x240 pixels; use one of at most 8 megapixels and 4096 "
            "pixels a side.",
        ),
        (
            lambda: clip_bytes(2.0, (320, 200), fps=4),
            "The source video must be at least 240 pixels on each side.",
        ),
    ],
)
def test_an_upload_that_is_not_a_video_the_model_accepts_is_refused_and_nothing_charged(
    api, user, make, message
):
    response = api.post(URL, {**EDIT, "video": upload(make())}, format="multipart")

    assert field_errors(response) == {"video": [message]}
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_the_same_limits_apply_to_a_source_generation(api, user):
    source = source_of(user, seconds=12.0)

    response = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json")

    assert field_errors(response) == {
        "source_generation": [
            "The source video must be between 2 and 10 seconds long for this model; this one "
            "is 12.0 s."
        ]
    }


def test_another_users_deleted_unfinished_or_unknown_video_is_refused_alike(api, user, other_user):
    others = source_of(other_user)
    deleted = source_of(user)
    delete_generation(deleted)
    running = make_generation(user, status=Status.PROCESSING)
    ids = [others.pk, deleted.pk, running.pk, others.pk + 1000, 2**62]

    for pk in ids:
        response = api.post(URL, {**EDIT, "source_generation": pk}, format="json")
        assert field_errors(response) == {"source_generation": [NO_SOURCE]}, pk
    assert Generation.objects.filter(operation=Operation.EDIT).count() == 0


def test_a_take_needs_a_source_an_operation_the_model_does_and_one_source_only(api, user):
    source = source_of(user)
    both = {**EDIT, "source_generation": source.pk, "video": upload(clip_bytes())}
    mismatched = {**EDIT, "model_key": "t2v-14B", "resolution": "480p"}

    assert field_errors(api.post(URL, EDIT, format="json")) == {
        "video": ["Wan 2.7 video edit needs a source video: one of yours or an upload."]
    }
    assert "video" in field_errors(api.post(URL, both, format="multipart"))
    assert field_errors(api.post(URL, mismatched, format="json")) == {
        "operation": ["Wan 2.1 text-to-video 14B does not edit; it does: create."]
    }
    as_create = {**EDIT, "operation": "create", "source_generation": source.pk}
    assert "operation" in field_errors(api.post(URL, as_create, format="json"))
    assert field_errors(api.post(URL, {**EDIT, "operation": "morph"}, format="json"))
    assert balance_of(user) == 100 - source.cost


def test_a_disabled_model_is_refused_at_once_and_said_not_ready(api, user, settings):
    source = source_of(user)
    settings.DISABLED_MODELS = ["edit-2.7"]

    response = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json")

    assert field_errors(response) == {
        "model_key": ["Wan 2.7 video edit is temporarily unavailable; choose another model."]
    }
    models = {model["key"]: model for model in APIClient().get("/api/v1/models/").json()}
    assert models["edit-2.7"]["ready"] is False and models["i2v-2.7"]["ready"] is True


def test_the_model_list_says_what_each_does_and_what_is_unverified():
    models = {model["key"]: model for model in APIClient().get("/api/v1/models/").json()}

    edit = models["edit-2.7"]
    assert edit["operations"] == ["edit"]
    assert edit["files"] == {"video": True, "image": False}
    assert edit["source_limits"]["max_seconds"] == 10
    assert edit["unverified"]["audio_setting"] == "B"
    assert models["i2v-2.7"]["unverified"]["first_clip"] == "B-"
    assert models["i2v-2.2-fast"]["files"] == {"image": True, "end_image": False}
    assert models["animate-2.2"]["takes_prompt"] is False


def test_a_deleted_source_keeps_its_takes_which_say_so(api, user):
    source = source_of(user)
    take = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json").json()

    assert api.delete(f"{URL}{source.pk}/").status_code == 204

    again = api.get(f"{URL}{take['id']}/").json()
    assert (again["parent"], again["parent_deleted"], again["has_source_video"]) == (
        source.pk,
        True,
        True,
    )


def test_a_list_of_twenty_with_their_takes_costs_the_same_queries_as_a_list_of_one(api, user):
    captured_sql: list[list[str]] = []

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(URL)
        assert response.status_code == 200
        captured_sql.append([query["sql"][:60] for query in captured.captured_queries])
        return len(captured)

    source = source_of(user)
    queries()  # the key's last use is written once, on the first request
    one = queries()
    for _ in range(19):
        make_generation(
            user,
            model_key="edit-2.7",
            resolution="720p",
            operation="edit",
            parent=source,
            input_video="sources/x.mp4",
            charged=False,
        )
    twenty = queries()

    assert one == twenty, captured_sql
    listed = {row["id"]: row for row in api.get(URL).json()["results"]}
    assert len(listed[source.pk]["takes"]) == 19


def test_a_remix_of_a_take_keeps_its_operation_and_source_with_its_own_copy(api, user):
    source = source_of(user)
    first = Generation.objects.get(
        pk=api.post(URL, {**EDIT, "source_generation": source.pk}, format="json").json()["id"]
    )
    params = reused_params(first, prompt="Make it a sunny summer morning")
    try:
        remix = submit_generation(user, params).generation
    finally:
        params.close_files()

    assert (remix.operation, remix.parent_id, remix.prompt) == (
        Operation.EDIT,
        source.pk,
        "Make it a sunny summer morning",
    )
    assert remix.input_video.name != first.input_video.name
    assert remix.input_video.open("rb").read() == first.input_video.open("rb").read()


def test_first_and_last_frame_is_an_end_image_on_image_to_video_only(api, user):
    def image(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, png_bytes(), content_type="image/png")

    i2v = {"model_key": "i2v-2.2-fast", "resolution": "480p", "prompt": EDIT["prompt"]}
    made = api.post(
        URL, {**i2v, "image": image("a.png"), "end_image": image("b.png")}, format="multipart"
    )
    refused = api.post(
        URL, {**i2v, "model_key": "t2v-14B", "end_image": image("b.png")}, format="multipart"
    )

    assert made.status_code == 201, made.content
    generation = Generation.objects.get(pk=made.json()["id"])
    assert (generation.operation, generation.cost) == (Operation.CREATE, 5)
    assert prediction_input(generation, {"image": "https://a", "end_image": "https://b"}) == {
        "prompt": EDIT["prompt"],
        "num_frames": 81,
        "resolution": "480p",
        "image": "https://a",
        "last_image": "https://b",
    }
    assert field_errors(refused) == {"end_image": ["Wan 2.1 text-to-video 14B takes no end image."]}


def test_a_source_video_follows_the_retention_of_input_images(api, user, settings):
    settings.INPUT_IMAGE_RETENTION_DAYS = 1
    source = source_of(user)
    body = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json").json()
    take = Generation.objects.get(pk=body["id"])
    cancel_generation(take)
    stored = take.input_video.name

    later = timezone.now() + timedelta(days=30)
    apply_retention(timezone.now())  # dated, with notice
    apply_retention(later)  # removed

    take.refresh_from_db()
    assert not take.input_video and take.input_video_expires_at is not None
    assert not default_storage.exists(stored)
    assert take.expired_input == "source video"
    refused = api.post(f"{URL}{take.pk}/retry/")
    assert refused.status_code == 409
    assert (
        refused.json()["error"]["message"]
        == "Its source video has expired, so it cannot be retried."
    )


def test_a_source_larger_than_the_models_limit_in_bytes_is_refused_before_decoding():
    limits = SourceLimits(min_seconds=2, max_seconds=10, max_bytes=20_000)

    with pytest.raises(ValidationError) as error:
        clean_source_video(upload(clip_bytes(3.0, (1280, 720))), limits)

    assert error.value.code == "too_large"
    assert error.value.messages[0].startswith("The source video is larger than")


def test_the_owner_plays_a_takes_source_and_no_one_else_does(api, user, other_user, client):
    source = source_of(user)
    take = api.post(URL, {**EDIT, "source_generation": source.pk}, format="json").json()
    path = f"/generations/{take['id']}/files/source"

    client.force_login(user)
    mine = client.get(path)
    assert (mine.status_code, mine["Content-Type"]) == (200, "video/mp4")
    client.force_login(other_user)
    assert client.get(path).status_code == 404
    assert client.get(f"/generations/{take['id']}/files/secrets").status_code == 404
