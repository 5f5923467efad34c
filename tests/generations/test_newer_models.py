"""Wan 2.2 fast and Wan 2.5: their inputs, lengths up to ten seconds, 1080p, prompt expansion,
and prices by model, resolution and length from the catalog."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import pytest
import replicate
from django.core.exceptions import ValidationError

from credits.selectors import balance_of
from generations import catalog
from generations.actions.params import GenerationParams
from generations.lifecycle.submission import submit_generation
from generations.replicate.inputs import prediction_input, replicate_model
from tests.factories import PROMPT, png_data_url

IMAGE = "https://example.com/in.png"


def sent(model_key: str, resolution: str, aspect_ratio: str = "16:9", **options: Any):
    return catalog.replicate_input(
        model_key=model_key,
        resolution=resolution,
        aspect_ratio=aspect_ratio,
        prompt=PROMPT,
        options=options,
        image_url=IMAGE,
    )


def test_wan_2_2_fast_gets_its_frames_and_resolution_and_i2v_no_aspect_ratio():
    assert sent("t2v-2.2-fast", "720p", "9:16") == {
        "prompt": PROMPT,
        "aspect_ratio": "9:16",
        "num_frames": 81,
        "resolution": "720p",
    }
    assert sent("i2v-2.2-fast", "480p", frame_num=121) == {
        "prompt": PROMPT,
        "num_frames": 121,
        "resolution": "480p",
        "image": IMAGE,
    }
    assert sent("t2v-2.2-fast", "480p", prompt_expansion=True)["optimize_prompt"] is True


def test_wan_2_5_text_to_video_gets_a_size_and_image_to_video_a_resolution():
    assert sent("t2v-2.5", "1080p", "9:16", duration=10, prompt_expansion=False) == {
        "prompt": PROMPT,
        "size": "1080*1920",
        "duration": 10,
        "enable_prompt_expansion": False,
    }
    assert sent("i2v-2.5-fast", "720p") == {
        "prompt": PROMPT,
        "resolution": "720p",
        "duration": 5,
        "image": IMAGE,
    }


@pytest.mark.parametrize(
    ("model_key", "resolution", "options", "credits"),
    [
        ("t2v-2.5", "480p", {}, 10),
        ("t2v-2.5", "720p", {"duration": 5}, 20),
        ("t2v-2.5", "720p", {"duration": 10}, 40),
        ("i2v-2.5", "1080p", {"duration": 10}, 64),
        ("t2v-2.5-fast", "1080p", {}, 32),
        ("t2v-2.2-fast", "480p", {}, 5),
        ("i2v-2.2-fast", "720p", {"frame_num": 121}, 15),  # 10 x 121 / 81, rounded up
        ("t2v-1.3B", "480p", {"frame_num": 33}, 5),  # Wan 2.1 keeps its flat price
    ],
)
def test_costs_follow_model_resolution_and_length(model_key, resolution, options, credits):
    assert catalog.cost_of(model_key, resolution, options) == credits


@pytest.mark.parametrize("model_key", ["t2v-2.5-fast", "i2v-2.5-fast"])
def test_the_fast_2_5_models_offer_no_480p(model_key):
    with pytest.raises(catalog.CatalogError, match="offers 720p, 1080p"):
        catalog.get_model(model_key).variant("480p")


def test_the_cheapest_model_still_sets_the_low_credit_warning():
    assert catalog.CHEAPEST_COST == 5
    assert catalog.RESOLUTIONS == ("480p", "720p", "1080p")


def t2v_2_5_at_720p(**options: Any) -> GenerationParams:
    return GenerationParams(
        model_key="t2v-2.5", resolution="720p", aspect_ratio="16:9", prompt=PROMPT, options=options
    )


@pytest.mark.django_db
def test_a_ten_second_clip_is_charged_twice_a_five_second_one(user, replicate_api):
    short = submit_generation(user, t2v_2_5_at_720p()).generation
    long = submit_generation(user, t2v_2_5_at_720p(duration="10")).generation

    assert (short.cost, long.cost) == (20, 40)
    assert balance_of(user) == 100 - 60
    assert long.options == {"duration": 10}
    assert replicate_model(long) == "wan-video/wan-2.5-t2v"
    assert prediction_input(long)["duration"] == 10


@pytest.mark.django_db
def test_a_length_the_model_does_not_offer_is_a_field_error(user):
    with pytest.raises(ValidationError) as error:
        submit_generation(user, t2v_2_5_at_720p(duration=7))
    assert error.value.message_dict == {"duration": ["Clip length (seconds) must be one of 5, 10."]}


def test_every_length_and_expansion_of_the_newer_models_is_accepted_by_the_simulator(simulator):
    for model in catalog.creating_models():
        lengths = [c for c in model.controls if c.name in ("duration", "frame_num")]
        if not model.priced_by_length:
            continue
        for variant in model.variants:
            for length in lengths[0].choices:
                data = sent(model.key, variant.resolution, "16:9", **{lengths[0].name: length})
                if image := model.file("image"):
                    data[image.input_name] = png_data_url()
                response = httpx.post(
                    f"{simulator.base_url}/v1/models/{variant.replicate_model}/predictions",
                    json={"input": data},
                    headers={"Authorization": "Bearer r8_test"},
                )
                assert response.status_code == 201, (model.key, variant, response.text)


def test_the_simulator_renders_1080p_portrait_for_wan_2_5(simulator_factory):
    simulator = simulator_factory(frames=2, duration=0.1)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    data = sent("t2v-2.5", "1080p", "9:16")

    prediction = client.models.predictions.create(model="wan-video/wan-2.5-t2v", input=data)
    prediction.wait()

    assert prediction.status == "succeeded", prediction.error
    assert isinstance(prediction.output, str)
    with av.open(io.BytesIO(httpx.get(prediction.output).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1080, 1920)
