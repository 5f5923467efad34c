"""Advanced settings: only the ones a model has, in its ranges, on the page, in the API, in
remix and retry, sent under the model's input names and shown on the detail page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generations.actions.errors import IdempotencyKeyReused
from generations.actions.params import GenerationParams
from generations.lifecycle.submission import submit_generation
from generations.models import Generation
from generations.replicate.inputs import prediction_input
from tests.factories import PROMPT, make_generation
from tests.generations.lifecycle_helpers import png
from tests.pages import found

pytestmark = pytest.mark.django_db

HF_LORA = "https://huggingface.co/owner/style-lora/resolve/main/lora.safetensors"


def params(model_key: str = "t2v-14B", **fields: Any) -> GenerationParams:
    return GenerationParams(
        model_key=model_key, resolution="480p", aspect_ratio="16:9", prompt=PROMPT, **fields
    )


def field_errors(invalid: GenerationParams) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        invalid.clean()
    return error.value.message_dict


@pytest.mark.parametrize(
    ("model_key", "options", "field", "message"),
    [
        ("t2v-1.3B", {"sample_steps": 9}, "sample_steps", "between 10 and 50"),
        ("t2v-1.3B", {"sample_steps": 51}, "sample_steps", "between 10 and 50"),
        ("t2v-14B", {"sample_steps": 41}, "sample_steps", "between 1 and 40"),
        ("t2v-14B", {"sample_steps": 2.5}, "sample_steps", "a whole number"),
        ("t2v-14B", {"guidance_scale": 0.5}, "guidance_scale", "between 1 and 10"),
        ("t2v-1.3B", {"guidance_scale": 21}, "guidance_scale", "between 0 and 20"),
        ("t2v-14B", {"shift": 2.5}, "shift", "a whole number"),  # an integer on wavespeed
        ("t2v-14B", {"lora_scale": 4.5}, "lora_scale", "between 0 and 4"),
        ("t2v-1.3B", {"frame_num": 80}, "frame_num", "17, 33, 49, 65, 81"),
        ("t2v-14B", {"fast_mode": "Turbo"}, "fast_mode", "Off, Balanced, Fast"),
        ("t2v-14B", {"sample_steps": True}, "sample_steps", "a whole number"),
        # Controls the model does not have.
        ("t2v-1.3B", {"fast_mode": "Fast"}, "fast_mode", "has no fast mode setting"),
        ("t2v-1.3B", {"lora_weights": HF_LORA}, "lora_weights", "has no lora weights"),
        ("t2v-14B", {"frame_num": 81}, "frame_num", "has no clip length"),
        ("t2v-14B", {"made_up": 1}, "made_up", "has no made_up setting"),
    ],
)
def test_a_setting_out_of_the_models_range_or_not_its_own_is_a_field_error(
    model_key, options, field, message
):
    errors = field_errors(params(model_key, options=options))

    assert list(errors) == [field]
    assert message in errors[field][0]


@pytest.mark.parametrize(
    "url",
    [
        "http://huggingface.co/owner/repo",  # not https
        "https://example.com/weights.bin",  # neither a known host nor .safetensors
        "https://huggingface.co.evil.example/x",
        "ftp://civitai.com/x.safetensors",
        "not a url",
        "https://huggingface.co/" + "x" * 2000,
    ],
)
def test_lora_weights_must_be_an_https_link_to_a_known_host_or_a_safetensors_file(url):
    errors = field_errors(params(options={"lora_weights": url}))

    assert "https link to Hugging Face, CivitAI" in errors["lora_weights"][0]


@pytest.mark.parametrize(
    "url",
    [
        HF_LORA,
        "https://civitai.com/api/download/models/12345",
        "https://cdn.example.org/loras/anime.safetensors",
    ],
)
def test_accepted_lora_links(url):
    assert params(options={"lora_weights": url}).clean().options == {"lora_weights": url}


def test_a_negative_prompt_is_refused_where_the_model_has_none():
    errors = field_errors(params("t2v-1.3B", negative_prompt="blurry"))

    assert errors == {"negative_prompt": ["Wan 2.1 text-to-video 1.3B takes no negative prompt."]}


def test_empty_settings_are_left_to_the_model_and_form_text_is_typed():
    cleaned = params(
        options={"sample_steps": "", "guidance_scale": None, "shift": "4", "fast_mode": "Fast"}
    ).clean()

    assert cleaned.options == {"shift": 4, "fast_mode": "Fast"}
    assert params("t2v-1.3B", options={"frame_num": "33"}).clean().options == {"frame_num": 33}


def test_settings_are_stored_and_sent_under_the_models_own_input_names(user, replicate_api):
    options = {
        "fast_mode": "Off",
        "sample_steps": 12,
        "guidance_scale": 7.5,
        "shift": 4,
        "lora_weights": HF_LORA,
        "lora_scale": 0.8,
    }
    generation = submit_generation(
        user, params(options=options, negative_prompt="blur", seed=9)
    ).generation

    generation.refresh_from_db()
    assert generation.options == options
    assert prediction_input(generation) == {
        "prompt": PROMPT,
        "aspect_ratio": "16:9",
        "negative_prompt": "blur",
        "seed": 9,
        "fast_mode": "Off",
        "sample_steps": 12,
        "sample_guide_scale": 7.5,
        "sample_shift": 4,
        "lora_weights": HF_LORA,
        "lora_scale": 0.8,
    }


def test_the_1_3b_clip_length_is_always_sent_and_its_guidance_named_as_it_expects(user):
    default = submit_generation(user, params("t2v-1.3B")).generation
    short = submit_generation(
        user, params("t2v-1.3B", options={"frame_num": 33, "guidance_scale": 4})
    ).generation

    assert prediction_input(default)["frame_num"] == 81
    assert prediction_input(short) == {
        "prompt": PROMPT,
        "aspect_ratio": "16:9",
        "resolution": "480p",
        "frame_num": 33,
        "sample_guide_scale": 4.0,
    }


def test_wan_2_2_fast_mode_is_a_switch_sent_as_go_fast_only_when_changed(user, api):
    default = submit_generation(user, params("t2v-2.2-fast")).generation
    slower = submit_generation(
        user, params("i2v-2.2-fast", options={"go_fast": "false"}, image=png())
    ).generation

    assert "go_fast" not in prediction_input(default)  # the model's own default: on
    assert slower.options == {"go_fast": False}
    assert prediction_input(slower)["go_fast"] is False
    refused = api.post(
        "/api/v1/generations/",
        {"model_key": "t2v-14B", "prompt": PROMPT, "go_fast": False},
        format="json",
    )
    assert refused.status_code == 400
    assert "has no fast mode setting" in json.dumps(refused.json())


def test_an_idempotency_key_reused_with_other_settings_is_refused(user):
    submit_generation(user, params(options={"sample_steps": 20}), idempotency_key="k")
    replay = submit_generation(user, params(options={"sample_steps": 20}), idempotency_key="k")
    assert replay.created is False

    with pytest.raises(IdempotencyKeyReused):
        submit_generation(user, params(options={"sample_steps": 21}), idempotency_key="k")


# The create page ----------------------------------------------------------------------------


def test_advanced_settings_offer_every_control_with_its_ranges_from_the_catalog(logged_in):
    page = logged_in.get(reverse("create")).content.decode()

    advanced = found(r'<details class="advanced".*?</details>', page, re.S)[0]
    assert "<summary>Advanced settings</summary>" in advanced
    for name, label in (
        ("frame_num", "Clip length (frames)"),
        ("fast_mode", "Fast mode"),
        ("sample_steps", "Sampling steps"),
        ("guidance_scale", "Guidance scale"),
        ("shift", "Shift"),
        ("lora_weights", "LoRA weights"),
        ("lora_scale", "LoRA scale"),
    ):
        assert f'data-control="{name}"' in advanced
        assert re.search(rf'<label for="id_{name}">{re.escape(label)}</label>', advanced), name
    data = json.loads(found(r'id="catalog-data"[^>]*>(.*?)</script>', page, re.S)[1])
    by_key = {model["key"]: model for model in data["models"]}
    steps = {c["name"]: c for c in by_key["t2v-1.3B"]["controls"]}["sample_steps"]
    assert (steps["minimum"], steps["maximum"], steps["default"]) == (10, 50, 30)
    assert by_key["t2v-1.3B"]["takes_negative_prompt"] is False
    assert {c["name"] for c in by_key["i2v-14B"]["controls"]} == {
        "fast_mode",
        "sample_steps",
        "guidance_scale",
        "shift",
        "lora_weights",
        "lora_scale",
    }


def test_the_page_submits_settings_and_shows_their_errors_in_the_open_section(logged_in, user):
    form = {
        "kind": "t2v",
        "model_key": "t2v-14B",
        "resolution": "480p",
        "aspect_ratio": "16:9",
        "prompt": PROMPT,
        "idempotency_key": "page-1",
    }
    refused = logged_in.post(reverse("create"), {**form, "sample_steps": "45"})
    page = refused.content.decode()
    assert refused.status_code == 422
    assert '<details class="advanced" open>' in page
    assert "Sampling steps must be between 1 and 40." in page
    assert not Generation.objects.exists()

    logged_in.post(
        reverse("create"),
        {**form, "sample_steps": "25", "fast_mode": "Fast", "lora_weights": HF_LORA},
    )

    generation = Generation.objects.get()
    assert generation.options == {"sample_steps": 25, "fast_mode": "Fast", "lora_weights": HF_LORA}


def test_remix_prefills_the_settings(logged_in, user):
    source = make_generation(user, options={"sample_steps": 22, "fast_mode": "Off"})

    page = logged_in.get(reverse("create") + f"?remix={source.pk}").content.decode()

    assert re.search(r'<input[^>]*name="sample_steps"[^>]*value="22"', page)
    assert re.search(r'<option value="Off" selected>', page)
    assert '<details class="advanced" open>' in page


def test_the_detail_page_shows_the_settings_used_and_the_defaults(logged_in, user):
    generation = make_generation(user, options={"sample_steps": 22, "lora_weights": HF_LORA})

    page = logged_in.get(reverse("detail", args=[generation.pk])).content.decode()

    assert "<dt>Sampling steps</dt><dd>22</dd>" in page
    assert f"<dt>LoRA weights</dt><dd>{HF_LORA}</dd>" in page
    assert "<dt>Fast mode</dt><dd>Default (Balanced)</dd>" in page
    assert "<dt>Guidance scale</dt><dd>Default (5)</dd>" in page


# The API --------------------------------------------------------------------------------------


def test_the_api_takes_settings_and_returns_them(api):
    response = api.post(
        "/api/v1/generations/",
        {
            "model_key": "t2v-14B",
            "prompt": PROMPT,
            "sample_steps": 18,
            "guidance_scale": 6.5,
            "lora_weights": HF_LORA,
            "lora_scale": None,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["options"] == {
        "sample_steps": 18,
        "guidance_scale": 6.5,
        "lora_weights": HF_LORA,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model_key": "t2v-1.3B", "fast_mode": "Fast"}, "fast_mode"),
        ({"sample_steps": 0}, "sample_steps"),
        ({"lora_weights": "http://huggingface.co/x"}, "lora_weights"),
        ({"fast_mode": "Turbo"}, "fast_mode"),
        ({"guidance_scale": "lots"}, "guidance_scale"),
    ],
)
def test_the_api_names_the_setting_it_refuses(api, changes, field):
    response = api.post(
        "/api/v1/generations/",
        {"model_key": "t2v-14B", "prompt": PROMPT, **changes},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_the_models_endpoint_and_the_schema_describe_the_controls(api):
    models = {m["key"]: m for m in api.get("/api/v1/models/").json()}
    assert models["t2v-1.3B"]["controls"][0] == {
        "name": "frame_num",
        "kind": "choice",
        "default": 81,
        "minimum": None,
        "maximum": None,
        "choices": [17, 33, 49, 65, 81],
    }
    schema = api.get("/api/schema/", {"format": "json"}).json()
    create = schema["components"]["schemas"]["GenerationCreateRequest"]["properties"]
    assert "t2v-1.3B: 10 to 50 (default 30)" in create["sample_steps"]["description"]
    assert "t2v-14B: 1 to 40 (default 30)" in create["sample_steps"]["description"]
