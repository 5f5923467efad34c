"""Each Replicate model gets exactly its own inputs, and the simulator refuses anything else the
way Replicate does (422, a `detail` naming the field), so a drifting catalog fails here."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from generations import catalog
from generations.simulator import MODELS, ReplicateSimulator
from tests.factories import catalog_inputs, png_data_url

PROMPT = "A lighthouse in a storm, waves breaking over the rocks"
WAVESPEED_T2V = "wavespeedai/wan-2.1-t2v-480p"
WAVESPEED_I2V = "wavespeedai/wan-2.1-i2v-720p"
WAN_1_3B = "wan-video/wan-2.1-1.3b"


def post(simulator: ReplicateSimulator, model: str, model_input: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{simulator.base_url}/v1/models/{model}/predictions",
        json={"input": model_input},
        headers={"Authorization": "Bearer r8_test"},
    )


def test_every_catalog_combination_is_accepted_by_the_simulator_over_http(simulator):
    models_sent = set()
    for model, variant, aspect_ratio, data in catalog_inputs():
        response = post(simulator, variant.replicate_model, data)

        assert response.status_code == 201, (model.key, variant, aspect_ratio, response.text)
        assert response.json()["input"] == data
        models_sent.add(variant.replicate_model)
    assert models_sent == {
        variant.replicate_model for m in catalog.MODELS.values() for variant in m.variants
    }


@pytest.mark.parametrize(
    ("model_key", "resolution", "expected"),
    [
        # 1.3B: its frame count and one resolution, no negative prompt.
        ("t2v-1.3B", "480p", {"prompt", "aspect_ratio", "frame_num", "resolution", "seed"}),
        ("t2v-14B", "720p", {"prompt", "aspect_ratio", "negative_prompt", "seed"}),
        ("i2v-14B", "480p", {"prompt", "aspect_ratio", "negative_prompt", "seed", "image"}),
    ],
)
def test_each_model_is_sent_only_inputs_its_schema_has(model_key, resolution, expected):
    data = catalog.replicate_input(
        model_key=model_key,
        resolution=resolution,
        aspect_ratio="16:9",
        prompt=PROMPT,
        negative_prompt="blurry",
        seed=1,
        image_url="https://example.com/in.png",
    )

    assert set(data) == expected
    replicate_model = catalog.get_model(model_key).variant(resolution).replicate_model
    assert set(data) <= set(MODELS[replicate_model].inputs)


@pytest.mark.parametrize(
    ("model", "extra", "field"),
    [
        # Removed from the wavespeed models in 2025.
        (WAVESPEED_T2V, {"num_frames": 81}, "num_frames"),
        (WAVESPEED_I2V, {"image": png_data_url(), "max_area": "1280x720"}, "max_area"),
        (WAVESPEED_T2V, {"frames_per_second": 16}, "frames_per_second"),
        (WAN_1_3B, {"negative_prompt": "blurry"}, "negative_prompt"),
        (WAN_1_3B, {"fast_mode": "Fast"}, "fast_mode"),
    ],
)
def test_an_input_the_model_does_not_take_is_422_naming_it(simulator, model, extra, field):
    response = post(simulator, model, {"prompt": PROMPT, **extra})

    assert response.status_code == 422
    assert f"input.{field}" in response.json()["detail"]
    assert [problem["field"] for problem in response.json()["invalid_fields"]] == [f"input.{field}"]


@pytest.mark.parametrize(
    ("model", "extra", "field", "message"),
    [
        (WAN_1_3B, {"frame_num": 80}, "frame_num", "must be one of the following: 17, 33"),
        (WAN_1_3B, {"sample_steps": 9}, "sample_steps", "greater than or equal to 10"),
        (WAN_1_3B, {"sample_guide_scale": 20.5}, "sample_guide_scale", "less than or equal"),
        (WAN_1_3B, {"resolution": "720p"}, "resolution", "must be one of"),
        (WAVESPEED_T2V, {"sample_steps": 41}, "sample_steps", "less than or equal to 40"),
        (WAVESPEED_T2V, {"sample_shift": 2.5}, "sample_shift", "must be of type int"),
        (WAVESPEED_T2V, {"fast_mode": "Turbo"}, "fast_mode", '"Off", "Balanced", "Fast"'),
        (WAVESPEED_T2V, {"lora_scale": 4.5}, "lora_scale", "less than or equal to 4"),
        (WAVESPEED_T2V, {"disable_safety_checker": "yes"}, "disable_safety_checker", "bool"),
        (WAVESPEED_T2V, {"seed": True}, "seed", "must be of type int"),
    ],
)
def test_a_wrong_type_or_out_of_range_value_is_422_naming_the_field(
    simulator, model, extra, field, message
):
    response = post(simulator, model, {"prompt": PROMPT, **extra})

    assert response.status_code == 422
    assert f"input.{field}: " in response.json()["detail"]
    assert message in response.json()["detail"]


def test_every_documented_input_within_range_is_accepted(simulator):
    response = post(
        simulator,
        WAVESPEED_I2V,
        {
            "prompt": PROMPT,
            "image": png_data_url(),
            "negative_prompt": "",
            "aspect_ratio": "9:16",
            "fast_mode": "Off",
            "seed": 5,
            "sample_guide_scale": 10,
            "sample_steps": 1,
            "sample_shift": 0,
            "lora_weights": "https://huggingface.co/owner/repo/resolve/main/style.safetensors",
            "lora_scale": 0.5,
            "disable_safety_checker": False,
        },
    )

    assert response.status_code == 201, response.text
