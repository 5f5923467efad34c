"""The audio track over the REST API: a multipart `audio` field for the Wan 2.5 models, checked by
decoding like on the pages, said in the generation and the model list, and documented."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from credits.selectors import balance_of
from generations.models import Generation
from tests.factories import PROMPT, audio_bytes, make_generation, playable_video, png_bytes

if TYPE_CHECKING:  # what the API client answers, named in the DRF stubs only
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
NOT_AUDIO = "This file is not a valid WAV or MP3 audio file."
T2V_2_5 = {"model_key": "t2v-2.5", "resolution": "720p", "aspect_ratio": "16:9", "prompt": PROMPT}


def track(data: bytes, name: str = "voice.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def audio_errors(response: ApiResponse) -> list[str]:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"audio"}
    return error["fields"]["audio"]


def test_a_wan_2_5_text_to_video_takes_a_wav_track(api, user):
    response = api.post(URL, {**T2V_2_5, "audio": track(audio_bytes())}, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["has_input_audio"], body["has_input_image"]) == (True, False)
    generation = Generation.objects.get(pk=body["id"])
    assert generation.input_audio.read() == audio_bytes()
    assert api.get(f"{URL}{generation.pk}/").json()["has_input_audio"] is True
    assert balance_of(user) == 100 - 20


def test_a_wan_2_5_image_to_video_takes_an_image_and_an_mp3_track(api):
    data = {
        **T2V_2_5,
        "model_key": "i2v-2.5-fast",
        "image": SimpleUploadedFile("fox.png", png_bytes(), content_type="image/png"),
        "audio": track(audio_bytes(12, "mp3"), "song.mp3"),
    }
    response = api.post(URL, data, format="multipart")

    assert response.status_code == 201, response.content
    assert (response.json()["has_input_image"], response.json()["has_input_audio"]) == (True, True)
    assert Generation.objects.get().input_audio.name.endswith(".mp3")


def test_the_track_is_optional_and_said_absent(api):
    response = api.post(URL, T2V_2_5, format="json")

    assert response.status_code == 201
    assert response.json()["has_input_audio"] is False


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (
            lambda: audio_bytes(2, "mp3"),
            "short.mp3",
            "The audio track must be between 3 and 30 seconds long; this one is 2.0 s.",
        ),
        (
            lambda: audio_bytes(41.2, "wav"),
            "long.wav",
            "The audio track must be between 3 and 30 seconds long; this one is 41.2 s.",
        ),
        (
            lambda: audio_bytes(21, "wav", rate=384_000),
            "big.wav",
            "The audio track is larger than 15 MB; choose a smaller one.",
        ),
        (png_bytes, "photo.mp3", NOT_AUDIO),
        (lambda: playable_video()[0], "clip.mp4", NOT_AUDIO),
        (lambda: audio_bytes(4, "mp4"), "song.m4a", "Only WAV and MP3 audio tracks are accepted."),
    ],
)
def test_a_track_that_is_not_a_wav_or_mp3_of_3_to_30_s_and_15_mb_is_refused(
    api, user, make: Callable[[], bytes], name: str, message: str
):
    response = api.post(URL, {**T2V_2_5, "audio": track(make(), name)}, format="multipart")

    assert audio_errors(response) == [message]
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


@pytest.mark.parametrize("model_key", ["t2v-1.3B", "i2v-14B", "t2v-2.2-fast"])
def test_a_model_without_audio_refuses_a_track_like_text_to_video_refuses_an_image(
    api, user, model_key
):
    data: dict[str, Any] = {**T2V_2_5, "model_key": model_key, "resolution": "480p"}
    data["audio"] = track(audio_bytes())
    if model_key.startswith("i2v"):
        data["image"] = SimpleUploadedFile("fox.png", png_bytes(), content_type="image/png")
    response = api.post(URL, data, format="multipart")

    [message] = audio_errors(response)
    assert message.endswith("takes no audio track; choose a Wan 2.5 model for one.")
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_a_track_sent_as_json_text_is_refused(api):
    response = api.post(URL, {**T2V_2_5, "audio": "https://example.com/a.wav"}, format="json")

    assert audio_errors(response)
    assert not Generation.objects.exists()


def test_the_model_list_says_which_models_take_a_track():
    models = APIClient().get("/api/v1/models/").json()

    assert {m["key"] for m in models if m["takes_audio"]} == {
        "t2v-2.5",
        "t2v-2.5-fast",
        "i2v-2.5",
        "i2v-2.5-fast",
        "s2v-2.2",  # a talking portrait: its track is required
    }


def test_an_older_generation_says_it_had_no_track(api, user):
    generation = make_generation(user)

    assert api.get(f"{URL}{generation.pk}/").json()["has_input_audio"] is False


def test_the_schema_documents_the_upload_and_the_flags():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    create = schema["paths"]["/api/v1/generations/"]["post"]
    upload = create["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    request_schema = schema["components"]["schemas"][upload.rsplit("/", 1)[-1]]
    audio = request_schema["properties"]["audio"]

    assert audio["format"] == "binary"
    assert "WAV or MP3 of 3 to 30 seconds and at most 15 MB" in audio["description"]
    assert "`audio` track" in create["description"]
    components = schema["components"]["schemas"]
    assert components["Generation"]["properties"]["has_input_audio"]["type"] == "boolean"
    assert components["CatalogModel"]["properties"]["takes_audio"]["type"] == "boolean"
