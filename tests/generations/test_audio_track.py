"""The optional audio track of the Wan 2.5 models: which models take it, its checks by decoding
(real WAV, MP3 and other files made with PyAV in the test), its storage with the generation, the
URL Replicate is sent, the simulator that fetches and decodes it over real HTTP, the pages, and
retry, delete and storage retention."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import av
import httpx
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from credits.selectors import balance_of
from generations import catalog, retention
from generations.actions.deletion import delete_generation
from generations.actions.errors import CannotRetry
from generations.audio import ACCEPTED_CONTENT_TYPES, MAX_AUDIO_BYTES, clean_audio
from generations.lifecycle.submission import retry_generation
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation, Status
from generations.simulator import ReplicateSimulator
from tests.factories import (
    PROMPT,
    audio_bytes,
    make_generation,
    playable_video,
    png_bytes,
    png_data_url,
)
from tests.generations.lifecycle_helpers import (
    REPLICATE,
    png,
    prediction,
    run_tasks,
    stored_files,
    submit,
)
from tests.pages import create_form, found

# The models whose Replicate schema has `audio` (MODELS.md), written out so a change is noticed.
AUDIO_MODELS = {"t2v-2.5", "t2v-2.5-fast", "i2v-2.5", "i2v-2.5-fast"}
SPEECH_MODELS = {"s2v-2.2"}  # a talking portrait: its track is required
AUDIO_URL = "https://example.com/voice.wav"
NOT_AUDIO = "This file is not a valid WAV or MP3 audio file."


def track(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_only_the_wan_2_5_models_take_an_audio_track():
    assert set(catalog.AUDIO_MODEL_KEYS) == AUDIO_MODELS | SPEECH_MODELS
    assert {
        variant.replicate_model
        for key in AUDIO_MODELS
        for variant in catalog.get_model(key).variants
    } == {
        "wan-video/wan-2.5-t2v",
        "wan-video/wan-2.5-t2v-fast",
        "wan-video/wan-2.5-i2v",
        "wan-video/wan-2.5-i2v-fast",
    }
    assert {model["key"]: model["takes_audio"] for model in catalog.as_dict()} == {
        key: key in AUDIO_MODELS | SPEECH_MODELS for key in catalog.MODELS
    }


@pytest.mark.parametrize("model_key", sorted(set(catalog.MODELS) - SPEECH_MODELS))
def test_the_audio_url_reaches_the_input_of_the_wan_2_5_models_only(model_key):
    model = catalog.get_model(model_key)
    common = {
        "model_key": model_key,
        "resolution": model.resolutions[-1],
        "aspect_ratio": "16:9",
        "prompt": PROMPT,
        "image_url": "https://example.com/in.png",
    }
    with_audio = catalog.replicate_input(**common, audio_url=AUDIO_URL)
    without = catalog.replicate_input(**common)

    assert "audio" not in without
    if model_key in AUDIO_MODELS:
        assert with_audio == {**without, "audio": AUDIO_URL}
    else:
        assert with_audio == without


@pytest.mark.parametrize(
    ("make", "name", "extension"),
    [
        (lambda: audio_bytes(3, "wav"), "voice.wav", ".wav"),
        (lambda: audio_bytes(30, "mp3"), "song.mp3", ".mp3"),
        (lambda: audio_bytes(4, "mp3"), "named-wrong.wav", ".mp3"),  # the content decides
    ],
)
def test_wav_and_mp3_tracks_of_3_to_30_seconds_are_accepted(
    make: Callable[[], bytes], name: str, extension: str
):
    assert clean_audio(track(make(), name)).extension == extension


@pytest.mark.parametrize(
    ("make", "name", "code", "message"),
    [
        (
            lambda: audio_bytes(2.5, "wav"),
            "short.wav",
            "too_short",
            "The audio track must be between 3 and 30 seconds long; this one is 2.5 s.",
        ),
        (
            lambda: audio_bytes(41.2, "mp3"),
            "long.mp3",
            "too_long",
            "The audio track must be between 3 and 30 seconds long; this one is 41.2 s.",
        ),
        (
            lambda: audio_bytes(41.2, "wav"),
            "long.wav",
            "too_long",
            "The audio track must be between 3 and 30 seconds long; this one is 41.2 s.",
        ),
        (  # 21 s of 384 kHz WAV: a valid length, 16 MB
            lambda: audio_bytes(21, "wav", rate=384_000),
            "big.wav",
            "too_large",
            "The audio track is larger than 15 MB; choose a smaller one.",
        ),
        (png_bytes, "photo.mp3", "invalid_audio", NOT_AUDIO),
        (lambda: playable_video()[0], "clip.mp3", "invalid_audio", NOT_AUDIO),
        (
            lambda: audio_bytes(4, "mp4"),
            "song.m4a",
            "unsupported_format",
            "Only WAV and MP3 audio tracks are accepted.",
        ),
        # Cut inside its header.
        (lambda: audio_bytes(4, "wav")[:40], "cut.wav", "invalid_audio", NOT_AUDIO),
        (lambda: b"", "empty.wav", "empty", "The audio file is empty."),
    ],
)
def test_tracks_that_are_not_wav_or_mp3_of_3_to_30_seconds_and_15_mb_are_refused(
    make: Callable[[], bytes], name: str, code: str, message: str
):
    upload = track(make(), name)
    with pytest.raises(ValidationError) as error:
        clean_audio(upload)
    assert (error.value.code, error.value.messages) == (code, [message])
    assert upload.tell() == 0  # left ready to be read again


@pytest.mark.django_db
def test_the_database_keeps_audio_to_the_models_that_take_it(user):
    make_generation(user, model_key="t2v-2.5", status=Status.QUEUED, input_audio="audio/a.wav")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_generation(user, model_key="t2v-14B", status=Status.QUEUED, input_audio="audio/b.wav")


# Submitting with a track ----------------------------------------------------------------------


def voice(seconds: float = 4.0, fmt: str = "wav", name: str = "") -> SimpleUploadedFile:
    """A track as a user uploads it, under a name of their own."""
    return SimpleUploadedFile(name or f"My voice memo.{fmt}", audio_bytes(seconds, fmt))


def data_url_bytes(url: str) -> tuple[str, bytes]:
    """The content type and bytes of a base64 data URL."""
    header, _, payload = url.removeprefix("data:").partition(",")
    return header.removesuffix(";base64"), base64.b64decode(payload)


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "model_key"), [("wav", "t2v-2.5"), ("mp3", "i2v-2.5-fast")])
def test_a_track_is_stored_privately_with_the_generation_under_its_real_format(
    user, fmt, model_key
):
    image = png() if catalog.get_model(model_key).needs_image else None
    resolution = catalog.get_model(model_key).resolutions[0]
    generation = submit(
        user, model_key=model_key, resolution=resolution, image=image, audio=voice(fmt=fmt)
    )

    name = generation.input_audio.name
    assert name.startswith("audio/") and name.endswith(f".{fmt}")
    assert "voice" not in name and len(name) > len("audio/") + 30  # unguessable
    with generation.input_audio.open("rb") as stored:
        assert stored.read() == audio_bytes(4.0, fmt)
    assert generation.status == Status.QUEUED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model_key", "label"),
    [("t2v-14B", "Wan 2.1 text-to-video 14B"), ("i2v-2.2-fast", "Wan 2.2 image-to-video fast")],
)
def test_a_track_for_a_model_without_audio_is_a_field_error_and_changes_nothing(
    user, isolated_media, model_key, label
):
    image = png() if catalog.get_model(model_key).needs_image else None
    with pytest.raises(ValidationError) as raised:
        submit(user, model_key=model_key, image=image, audio=voice())

    assert raised.value.message_dict == {
        "audio": [f"{label} takes no audio track; choose a Wan 2.5 model for one."]
    }
    assert not Generation.objects.exists()
    assert balance_of(user) == 100
    assert stored_files(isolated_media) == []


@pytest.mark.django_db
def test_a_refused_track_changes_nothing(user, isolated_media):
    with pytest.raises(ValidationError) as raised:
        submit(user, model_key="t2v-2.5", audio=voice(41.2))

    assert raised.value.message_dict == {
        "audio": ["The audio track must be between 3 and 30 seconds long; this one is 41.2 s."]
    }
    assert not Generation.objects.exists()
    assert balance_of(user) == 100
    assert stored_files(isolated_media) == []


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_submission_whose_transaction_fails_keeps_neither_uploaded_file(
    user, isolated_media, assert_audit_clean
):
    # The database itself refuses the new row, after both files were saved: the submitting
    # transaction fails as it would on any database error.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_generation() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the database refuses this generation'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_generation BEFORE INSERT ON generations_generation "
            "FOR EACH ROW EXECUTE FUNCTION refuse_generation()"
        )

    with pytest.raises(Exception, match="the database refuses this generation"):
        submit(user, model_key="i2v-2.5", image=png(), audio=voice())

    assert stored_files(isolated_media) == []
    assert balance_of(user) == 100
    assert_audit_clean()


# What Replicate is sent -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings")
@pytest.mark.parametrize(
    ("model_key", "replicate_model", "orientation"),
    [
        ("t2v-2.5", "wan-video/wan-2.5-t2v", {"size": "1280*720"}),
        ("t2v-2.5-fast", "wan-video/wan-2.5-t2v-fast", {"size": "1280*720"}),
        ("i2v-2.5", "wan-video/wan-2.5-i2v", {"resolution": "720p"}),
        ("i2v-2.5-fast", "wan-video/wan-2.5-i2v-fast", {"resolution": "720p"}),
    ],
)
def test_each_wan_2_5_model_is_sent_the_track_as_a_url_only_when_there_is_one(
    user, replicate_api, model_key, replicate_model, orientation
):
    route = replicate_api.create_prediction(replicate_model).respond(
        201, json=prediction("p-1", "starting")
    )
    needs_image = catalog.get_model(model_key).needs_image

    for audio in (voice(fmt="mp3"), None):
        submit(
            user,
            model_key=model_key,
            resolution="720p",
            image=png() if needs_image else None,
            audio=audio,
        )
        run_tasks()

    with_audio, without = [json.loads(call.request.content)["input"] for call in route.calls]
    if needs_image:  # the image's URL is the image tests' concern
        for model_input in (with_audio, without):
            assert model_input.pop("image").startswith("data:image/png;base64,")
    assert without == {"prompt": PROMPT, **orientation, "duration": 5}
    assert data_url_bytes(with_audio.pop("audio")) == ("audio/mpeg", audio_bytes(4.0, "mp3"))
    assert with_audio == without


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings")
def test_a_track_too_large_to_send_inline_is_uploaded_to_replicates_files_api(user, replicate_api):
    upload = replicate_api.post("/v1/files").respond(
        201, json={"id": "f-audio", "urls": {"get": f"{REPLICATE}/v1/files/f-audio"}}
    )
    route = replicate_api.create_prediction("wan-video/wan-2.5-t2v").respond(
        201, json=prediction("p-1", "starting")
    )
    submit(user, model_key="t2v-2.5", resolution="720p", audio=voice(30))  # 480 KB of WAV

    run_tasks()

    assert upload.call_count == 1
    assert audio_bytes(30.0, "wav") in upload.calls.last.request.content
    assert json.loads(route.calls.last.request.content)["input"]["audio"] == (
        f"{REPLICATE}/v1/files/f-audio"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings")
def test_a_lost_prediction_of_a_wan_2_5_generation_with_a_track_is_recovered(
    user, replicate_api, assert_audit_clean
):
    generation = submit(
        user, model_key="i2v-2.5", resolution="720p", image=png(), audio=voice(fmt="mp3")
    )
    # Replicate creates the prediction, but the answer is lost to a timeout.
    create = replicate_api.create_prediction("wan-video/wan-2.5-i2v").mock(
        side_effect=httpx.ReadTimeout("no answer")
    )
    run_tasks(max_tasks=1)
    sent = json.loads(create.calls.last.request.content)["input"]
    assert sent["audio"].startswith("data:audio/mpeg;base64,")
    # Replicate's list shows no webhook URLs: only the model and the input can tell it is ours.
    lost = prediction("p-lost", "processing", model="wan-video/wan-2.5-i2v", input=sent)
    other = prediction("p-other", "processing", model="wan-video/wan-2.5-i2v", input=dict(sent))
    other["input"]["prompt"] = "Someone else's video of a fox in the snow"
    replicate_api.list_predictions(other, lost)

    run_tasks()

    generation.refresh_from_db()
    assert generation.prediction_id == "p-lost"
    assert generation.status == Status.PROCESSING
    assert create.call_count == 1  # found, not created a second time
    assert_audit_clean()


# The simulator, over real HTTP ----------------------------------------------------------------


def create(simulator: ReplicateSimulator, model: str, **model_input: Any) -> httpx.Response:
    return httpx.post(
        f"{simulator.base_url}/v1/models/{model}/predictions",
        json={"input": {"prompt": PROMPT, **model_input}},
        headers={"Authorization": "Bearer r8_test"},
    )


def wav_data_url(seconds: float = 4.0) -> str:
    return "data:audio/wav;base64," + base64.b64encode(audio_bytes(seconds, "wav")).decode()


def test_the_simulator_refuses_audio_on_a_model_without_it(simulator):
    response = create(simulator, "wavespeedai/wan-2.1-t2v-480p", audio=wav_data_url())

    assert response.status_code == 422
    assert response.json()["detail"] == "- input.audio: audio is not an input of this model\n"
    assert simulator.predictions == {}


@pytest.mark.parametrize(
    ("audio", "description"),
    [
        ("ftp://example.com/a.wav", "audio must be a data URL or an http(s) URL"),
        ("data:audio/wav;base64,%%%", "audio data URL is not valid base64"),
        (7, "audio must be of type str"),
    ],
)
def test_the_simulator_refuses_an_audio_input_that_is_not_a_url(simulator, audio, description):
    response = create(simulator, "wan-video/wan-2.5-t2v", audio=audio)

    assert response.status_code == 422
    assert response.json()["detail"] == f"- input.audio: {description}\n"


def test_the_simulator_decodes_a_track_from_a_data_url_an_upload_or_an_http_url(
    simulator, simulator_webhooks
):
    uploaded = httpx.post(
        f"{simulator.base_url}/v1/files",
        files={"content": ("song.mp3", audio_bytes(5.0, "mp3"), "audio/mpeg")},
        headers={"Authorization": "Bearer r8_test"},
    ).json()["urls"]["get"]
    simulator_webhooks.files["/long.wav"] = (audio_bytes(30.0, "wav"), "audio/wav")

    for audio, seconds in (
        (wav_data_url(), "4.0"),
        (uploaded, "5.0"),
        (simulator_webhooks.url("/long.wav"), "30.0"),
    ):
        created = create(simulator, "wan-video/wan-2.5-i2v", image=png_data_url(), audio=audio)
        assert created.status_code == 201, created.text
        done = simulator.wait_for(created.json()["id"])
        assert done["status"] == "succeeded", done["error"]
        assert f"Loaded the audio track: {seconds} s" in done["logs"]
        # The video carries the track as its sound, cut to the video's length.
        with av.open(io.BytesIO(httpx.get(done["output"]).content), mode="r") as video:
            assert video.streams.audio and video.streams.audio[0].codec_context.name == "aac"
            frames = video.streams.video[0].frames
            sound = sum(frame.samples for frame in video.decode(audio=0)) / 44_100
            assert abs(sound - frames / simulator.config.fps) < 0.1


@pytest.mark.parametrize(
    ("audio", "error"),
    [
        (wav_data_url(2.0), "Input audio must be 3 to 30 seconds long, not 2.0 seconds"),
        (wav_data_url(41.2), "Input audio must be 3 to 30 seconds long, not 41.2 seconds"),
        (
            "data:audio/mpeg;base64," + base64.b64encode(png_bytes()).decode(),
            "Input audio must be a WAV or MP3 file, not png_pipe",
        ),
        ("data:audio/wav;base64," + base64.b64encode(b"RIFF....").decode(), "could not be decoded"),
    ],
)
def test_the_simulator_fails_the_prediction_on_a_track_it_cannot_use(simulator, audio, error):
    created = create(simulator, "wan-video/wan-2.5-t2v", audio=audio)

    assert created.status_code == 201
    done = simulator.wait_for(created.json()["id"])
    assert done["status"] == "failed"
    assert error in done["error"]
    assert done["output"] is None


def test_the_simulator_fails_the_prediction_on_a_track_it_cannot_download(
    simulator, simulator_webhooks
):
    created = create(simulator, "wan-video/wan-2.5-t2v", audio=simulator_webhooks.url("/gone.wav"))

    done = simulator.wait_for(created.json()["id"])
    assert (done["status"], done["error"]) == ("failed", "Input audio download failed: HTTP 404")


def test_the_simulator_refuses_a_track_larger_than_wan_takes(simulator_factory):
    simulator = simulator_factory(max_audio_bytes=50_000)
    created = create(simulator, "wan-video/wan-2.5-t2v", audio=wav_data_url(4.0))  # 64 KB

    done = simulator.wait_for(created.json()["id"])
    assert (done["status"], done["error"]) == ("failed", "Input audio is larger than 50000 bytes")


# The pages -------------------------------------------------------------------------------------


def page_form(**overrides: Any) -> dict[str, Any]:
    """The create page's fields for a Wan 2.5 text-to-video submission."""
    return create_form(**({"model_key": "t2v-2.5", "resolution": "720p"} | overrides))


@pytest.mark.django_db
def test_the_create_page_offers_a_track_input_with_the_servers_limits(logged_in):
    page = logged_in.get(reverse("create")).content.decode()

    field = found(r'<input type="file" name="audio"[^>]*>', page)[0]
    assert 'accept="audio/wav,audio/mpeg,.wav,.mp3"' in field
    assert "WAV or MP3, 3 to 30 seconds, at most 15 MB." in page
    data = json.loads(found(r'id="catalog-data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert data["audio"] == {
        "types": list(ACCEPTED_CONTENT_TYPES),
        "extensions": [".wav", ".mp3"],
        "max_bytes": MAX_AUDIO_BYTES,
        "max_size": "15 MB",
        "min_seconds": 3,
        "max_seconds": 30,
    }
    assert {m["key"] for m in data["models"] if m["takes_audio"]} == AUDIO_MODELS | SPEECH_MODELS


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_a_track_chosen_on_the_page_is_stored_with_the_generation(logged_in, user, fmt):
    response = logged_in.post(reverse("create"), page_form(audio=voice(fmt=fmt)))

    assert response.status_code == 302
    generation = Generation.objects.get(user=user)
    assert generation.input_audio.name.endswith(f".{fmt}")
    assert balance_of(user) == 100 - 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("track", "model_key", "message"),
    [
        (
            lambda: voice(2.0),
            "t2v-2.5",
            "The audio track must be between 3 and 30 seconds long; this one is 2.0 s.",
        ),
        (
            lambda: voice(41.2, "mp3"),
            "t2v-2.5",
            "The audio track must be between 3 and 30 seconds long; this one is 41.2 s.",
        ),
        (
            lambda: SimpleUploadedFile("big.wav", audio_bytes(21, "wav", rate=384_000)),
            "t2v-2.5",
            "The audio track is larger than 15 MB; choose a smaller one.",
        ),
        (lambda: SimpleUploadedFile("photo.mp3", png_bytes()), "t2v-2.5", NOT_AUDIO),
        (lambda: SimpleUploadedFile("clip.mp4", playable_video()[0]), "t2v-2.5", NOT_AUDIO),
        (
            lambda: SimpleUploadedFile("song.m4a", audio_bytes(4, "mp4")),
            "t2v-2.5",
            "Only WAV and MP3 audio tracks are accepted.",
        ),
        (
            voice,
            "t2v-14B",
            "Wan 2.1 text-to-video 14B takes no audio track; choose a Wan 2.5 model for one.",
        ),
    ],
)
def test_a_refused_track_is_a_form_error_on_the_page_and_changes_nothing(
    logged_in, user, isolated_media, track: Callable[[], SimpleUploadedFile], model_key, message
):
    model = catalog.get_model(model_key)
    form = page_form(model_key=model_key, resolution=model.resolutions[-1], audio=track())
    response = logged_in.post(reverse("create"), form)

    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'class="field has-error" id="field-audio"' in page
    assert not Generation.objects.exists()
    assert balance_of(user) == 100
    assert stored_files(isolated_media) == []


@pytest.mark.django_db
def test_the_owner_hears_the_track_on_the_detail_page_and_nobody_else_gets_it(
    logged_in, user, make_user, client
):
    generation = make_generation(user, model_key="t2v-2.5", resolution="720p", audio=audio_bytes())
    generation.share_token = "shared-link-token"
    generation.save(update_fields=["share_token"])
    url = reverse("generation-file", args=[generation.pk, "audio"])

    page = logged_in.get(reverse("detail", args=[generation.pk])).content.decode()
    assert (
        found(r'<audio class="input-audio" controls preload="none" src="([^"]+)"', page)[1] == url
    )
    served = logged_in.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "audio/x-wav"
    assert b"".join(served.streaming_content) == audio_bytes()
    client.force_login(make_user("mallory"))
    assert client.get(url).status_code == 404
    shared = reverse("shared-file", args=["shared-link-token", "audio"])
    assert client.get(shared).status_code == 404


@pytest.mark.django_db
def test_a_generation_without_a_track_shows_no_player(logged_in, user):
    generation = make_generation(user, model_key="t2v-2.5", resolution="720p")

    page = logged_in.get(reverse("detail", args=[generation.pk])).content.decode()
    assert "<audio" not in page
    url = reverse("generation-file", args=[generation.pk, "audio"])
    assert logged_in.get(url).status_code == 404


@pytest.mark.django_db
def test_remix_reuses_the_track_as_a_copy_unless_told_not_to(logged_in, user):
    source = make_generation(user, model_key="t2v-2.5", resolution="720p", audio=audio_bytes())

    page = logged_in.get(reverse("create") + f"?remix={source.pk}").content.decode()
    assert reverse("generation-file", args=[source.pk, "audio"]) in page
    assert found(r'<input type="checkbox" name="reuse_audio"[^>]*>', page)[0].endswith("checked>")
    remix_of = found(r'name="remix_of" value="(\d+)"', page)[1]
    assert remix_of == str(source.pk)

    kept = page_form(remix_of=remix_of, reuse_audio="on", idempotency_key="remix-1")
    assert logged_in.post(reverse("create"), kept).status_code == 302
    dropped = page_form(remix_of=remix_of, idempotency_key="remix-2")  # the box unticked
    assert logged_in.post(reverse("create"), dropped).status_code == 302

    with_track, without = Generation.objects.exclude(pk=source.pk).order_by("pk")
    assert with_track.input_audio.name != source.input_audio.name
    assert with_track.input_audio.read() == audio_bytes()
    assert not without.input_audio


# Retry, delete and storage retention -----------------------------------------------------------

DAY = timedelta(days=1)


@pytest.mark.django_db
@pytest.mark.usefixtures("replicate_settings")
def test_retrying_gives_the_new_generation_its_own_copy_of_the_track(user):
    original = submit(user, model_key="i2v-2.5", image=png(), audio=voice(fmt="mp3"))
    cancel_generation(original)

    retried = retry_generation(original).generation

    assert retried.retried_from == original
    assert retried.input_audio.name.endswith(".mp3")
    assert retried.input_audio.name != original.input_audio.name
    with retried.input_audio.open("rb") as copy, original.input_audio.open("rb") as source:
        assert copy.read() == source.read() == audio_bytes(4.0, "mp3")
    assert retried.input_image.name != original.input_image.name


@pytest.mark.django_db
def test_deleting_a_generation_removes_its_track(user, django_capture_on_commit_callbacks):
    generation = make_generation(user, model_key="t2v-2.5", resolution="720p", audio=audio_bytes())
    stored = generation.input_audio.path

    with django_capture_on_commit_callbacks(execute=True):
        delete_generation(generation)

    assert not os.path.exists(stored)
    assert not generation.input_audio
    assert generation.deleted_at is not None


@pytest.fixture
def retention_settings(settings):
    settings.INPUT_AUDIO_RETENTION_DAYS = 30
    settings.STORAGE_EXPIRY_NOTICE_DAYS = 7
    settings.ORPHAN_FILE_GRACE_HOURS = 24


@pytest.mark.django_db
@pytest.mark.usefixtures("retention_settings")
def test_retention_dates_then_removes_a_track_and_a_retry_says_so(user, logged_in):
    generation = make_generation(
        user, model_key="t2v-2.5", resolution="720p", status=Status.FAILED, audio=audio_bytes()
    )
    Generation.objects.filter(pk=generation.pk).update(completed_at=timezone.now() - 40 * DAY)
    stored = generation.input_audio.path
    now = timezone.now()

    assert "input_audio: 1 dated, 0 removed" in retention.apply_retention(now)
    generation.refresh_from_db()
    assert generation.input_audio_expires_at == now + 7 * DAY  # the notice period
    page = logged_in.get(reverse("detail", args=[generation.pk])).content.decode()
    assert "Audio track kept until" in page
    assert generation.can_retry

    assert "input_audio: 0 dated, 1 removed" in retention.apply_retention(now + 8 * DAY)
    generation.refresh_from_db()
    assert not generation.input_audio and not os.path.exists(stored)
    assert not generation.can_retry
    with pytest.raises(CannotRetry) as raised:
        retry_generation(generation)
    assert raised.value.message == "Its audio track has expired, so it cannot be retried."
    assert raised.value.status == 409


@pytest.mark.django_db
@pytest.mark.usefixtures("retention_settings")
def test_orphan_tracks_are_swept_and_tracks_in_use_are_kept(user):
    kept = make_generation(user, model_key="t2v-2.5", resolution="720p", audio=audio_bytes())
    storage = retention.storage()
    orphan = storage.save("audio/lost.wav", ContentFile(audio_bytes()))
    two_days_ago = (timezone.now() - 2 * DAY).timestamp()
    for name in (orphan, kept.input_audio.name, kept.video.name, kept.poster.name):
        os.utime(storage.path(name), (two_days_ago, two_days_ago))

    assert retention.sweep_orphans(timezone.now()) == 1
    assert not storage.exists(orphan)
    assert storage.exists(kept.input_audio.name)


@pytest.mark.django_db
def test_storage_report_counts_the_tracks(make_user):
    heavy = make_user("heavy")
    make_generation(
        heavy, model_key="t2v-2.5", resolution="720p", audio=audio_bytes(30), video=b"v"
    )
    make_generation(make_user("light"), video=b"v" * 1000)
    out = io.StringIO()

    call_command("storage_report", "--top", "1", stdout=out)

    lines = out.getvalue().splitlines()
    audio_line = next(line for line in lines if line.startswith("input_audio "))
    size = filesizeformat(len(audio_bytes(30)))
    assert audio_line.split() == ["input_audio", "1", *size.split(), "0"]
    assert lines[-1].startswith("heavy ")  # its track counts towards its usage
