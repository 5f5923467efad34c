"""The optional audio track of the Wan 2.5 models: which models take it, and its checks by
decoding (real WAV, MP3 and other files made with PyAV in the test)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from generations import catalog
from generations.audio import validate_audio
from generations.models import Status
from tests.factories import PROMPT, audio_bytes, make_generation, playable_video, png_bytes

# The models whose Replicate schema has `audio` (MODELS.md), written out so a change is noticed.
AUDIO_MODELS = {"t2v-2.5", "t2v-2.5-fast", "i2v-2.5", "i2v-2.5-fast"}
AUDIO_URL = "https://example.com/voice.wav"
NOT_AUDIO = "This file is not a valid WAV or MP3 audio file."


def track(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_only_the_wan_2_5_models_take_an_audio_track():
    assert set(catalog.AUDIO_MODEL_KEYS) == AUDIO_MODELS
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
        key: key in AUDIO_MODELS for key in catalog.MODELS
    }


@pytest.mark.parametrize("model_key", list(catalog.MODELS))
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
    assert validate_audio(track(make(), name)) == extension


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
        (lambda: audio_bytes(4, "wav")[:60], "cut.wav", "invalid_audio", NOT_AUDIO),
        (lambda: b"", "empty.wav", "empty", "The audio file is empty."),
    ],
)
def test_tracks_that_are_not_wav_or_mp3_of_3_to_30_seconds_and_15_mb_are_refused(
    make: Callable[[], bytes], name: str, code: str, message: str
):
    upload = track(make(), name)
    with pytest.raises(ValidationError) as error:
        validate_audio(upload)
    assert (error.value.code, error.value.messages) == (code, [message])
    assert upload.tell() == 0  # left ready to be read again


@pytest.mark.django_db
def test_the_database_keeps_audio_to_the_models_that_take_it(user):
    make_generation(user, model_key="t2v-2.5", status=Status.QUEUED, input_audio="audio/a.wav")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_generation(user, model_key="t2v-14B", status=Status.QUEUED, input_audio="audio/b.wav")
