"""`manage.py check_models` over real HTTP against the simulator, whose models' pages carry
the schemas it checks predictions against: clean as shipped, non-zero with one sentence per
difference once a schema is changed on purpose, and a sentence (never a traceback) when
Replicate cannot be read. A model turned off for a broken schema is refused without a charge."""

from __future__ import annotations

import dataclasses
import io
import json
import re

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_django import Settings
from rest_framework.test import APIClient

from credits.selectors import balance_of
from generations import catalog
from generations.models import Generation
from generations.schema_check import compare, sent_inputs
from generations.simulator import ReplicateSimulator
from generations.simulator.wan_models import Input
from tests.fixtures.local_servers import Answer, LocalServer, free_port
from tests.generations.lifecycle_helpers import configure
from tests.pages import create_form
from wan_pwa.background import scheduler

EDIT = "wan-video/wan-2.7-videoedit"
T2V_1_3B = "wan-video/wan-2.1-1.3b"
VERSION = re.compile(r" version [0-9a-f]{12}(?=\))")


@pytest.fixture
def checked(settings: Settings, simulator: ReplicateSimulator) -> ReplicateSimulator:
    """The app's Replicate is the simulator."""
    configure(settings, base_url=simulator.base_url)
    return simulator


def check_models(*args: str) -> tuple[str, str | None]:
    """The command's output without the versions it names, and its error (None when it exits
    0)."""
    out = io.StringIO()
    try:
        call_command("check_models", *args, stdout=out, no_color=True)
    except CommandError as error:
        return VERSION.sub("", out.getvalue()), str(error)
    return VERSION.sub("", out.getvalue()), None


def change(simulator: ReplicateSimulator, name: str, **inputs: Input | None) -> None:
    """The model's schema with these inputs added, changed, or removed (None)."""
    model = simulator.model(name)
    assert model is not None
    changed = {**model.inputs, **inputs}
    kept = {key: spec for key, spec in changed.items() if spec is not None}
    simulator.change_model(name, dataclasses.replace(model, inputs=kept))


def test_the_catalog_matches_every_schema_the_simulator_serves(checked):
    output, error = check_models()

    assert error is None
    assert "BREAKING" not in output
    assert "edit-2.7 (wan-video/wan-2.7-videoedit): matches what we send" in output
    assert output.strip().endswith(
        "Checked 17 Replicate models behind 15 catalog models: 15 match, "
        "0 with breaking differences."
    )


def test_a_renamed_input_a_removed_enum_value_and_new_required_inputs_are_breaking(checked):
    change(
        checked,
        EDIT,
        audio_setting=None,
        sound=Input(str, choices=("auto", "origin")),
        resolution=Input(str, choices=("1080p",)),
        strength=Input(float),
    )
    model = checked.model(EDIT)
    assert model is not None
    required = ("video", "strength", "reference_image")
    checked.change_model(EDIT, dataclasses.replace(model, required=required))

    output, error = check_models()

    assert error == "Breaking differences in edit-2.7: predictions of this model may be refused."
    report = output.split("edit-2.7 (wan-video/wan-2.7-videoedit): ")[1].splitlines()
    assert report[:6] == [
        "4 breaking",
        "  BREAKING: we send `audio_setting`, which the model no longer takes.",
        '  BREAKING: `resolution` no longer accepts "720p" (it takes "1080p").',
        "  BREAKING: the model requires `strength`, which we never send.",
        "  BREAKING: the model requires `reference_image`, which we send only when the user "
        "gives one.",
        "  note: optional inputs we do not send: aspect_ratio, sound.",
    ]
    assert "DISABLED_MODELS=edit-2.7 (then restart)" in output
    assert "1 with breaking differences" in output


def test_fewer_choices_a_narrower_range_and_a_new_type_are_breaking(checked, settings):
    settings.DISABLED_MODELS = ["vace-14B"]
    change(
        checked,
        T2V_1_3B,
        sample_steps=Input(int, minimum=10, maximum=40),
        frame_num=Input(int, choices=(49, 65, 81)),
        sample_guide_scale=Input(int, minimum=0, maximum=20),
        seed=Input(int, minimum=0, maximum=1000),
    )

    output, error = check_models("--model", "t2v-1.3B")

    assert error == "Breaking differences in t2v-1.3B: predictions of this model may be refused."
    assert output.splitlines() == [
        "t2v-1.3B (wan-video/wan-2.1-1.3b): 4 breaking",
        "  BREAKING: `frame_num` no longer accepts 17, 33 (it takes 49, 65, 81).",
        "  BREAKING: `sample_steps` now takes 10 to 40; we send 10 to 50.",
        "  BREAKING: `sample_guide_scale` is now of type integer; we send a number.",
        "  BREAKING: `seed` now takes 0 to 1000; we send 0 to 2147483647.",
        "Checked 1 Replicate models behind 1 catalog models: 0 match, 1 with breaking "
        "differences. Until the catalog is fixed, turn them off: "
        "DISABLED_MODELS=t2v-1.3B,vace-14B (then restart).",
    ]


def test_json_output_and_one_model(checked):
    change(checked, "prunaai/vace-14b", src_mask=None)

    output, error = check_models("--model", "vace-14B", "--json")

    assert error is not None
    reports = json.loads(output)
    assert len(reports[0].pop("version")) == 64  # the simulator's: a hash of the schema
    assert reports == [
        {
            "key": "vace-14B",
            "replicate_model": "prunaai/vace-14b",
            "breaking": ["we send `src_mask`, which the model no longer takes."],
            "notes": [
                "optional inputs we do not send: frame_num, sample_guide_scale, sample_shift, "
                "sample_solver, sample_steps, speed_mode."
            ],
        }
    ]


def test_each_block_names_the_version_checked(checked, simulator_client):
    out = io.StringIO()
    call_command("check_models", "--model", "edit-2.7", stdout=out, no_color=True)

    version = simulator_client.models.get(EDIT).latest_version.id
    assert out.getvalue().startswith(f"edit-2.7 ({EDIT} version {version[:12]}): matches")


def test_an_optional_input_written_as_any_of_with_null_is_read():
    model = catalog.MODELS["t2v-1.3B"]
    sent = sent_inputs(model, model.variants)
    schemas = {
        "Input": {
            "required": ["prompt"],
            "properties": {
                **{each.name: {} for each in sent},
                "seed": {"anyOf": [{"type": "integer", "maximum": 99}, {"type": "null"}]},
            },
        }
    }

    report = compare("t2v-1.3B", T2V_1_3B, sent, schemas)

    assert report.breaking == ["`seed` now takes at most 99; we send 0 to 2147483647."]


def test_a_malformed_schema_is_read_without_a_traceback():
    model = catalog.MODELS["vace-14B"]
    sent = sent_inputs(model, model.variants)
    schemas = {
        "loop": {"$ref": "#/components/schemas/loop"},
        "Input": {
            "required": ["prompt", 7, "src_video"],
            "properties": {
                "prompt": "a string, not a schema",
                "size": {"allOf": [{"$ref": "#/components/schemas/loop"}, 3], "enum": "832*480"},
                "seed": {"type": ["integer", "null"], "minimum": "0", "maximum": True},
                "src_video": {"anyOf": [{"type": "string"}, {"type": "null"}, "x"]},
                "src_mask": {"type": ["number", "null"]},
                "src_ref_images": {"$ref": 42},
            },
        },
    }

    report = compare("vace-14B", "prunaai/vace-14b", sent, schemas)

    assert report.breaking == ["`src_mask` is now of type number; we send a string."]


def test_an_unknown_model_key_is_a_sentence(checked):
    error = check_models("--model", "t2v-99B")[1]

    assert error == f"Unknown model 't2v-99B'; choose one of {', '.join(catalog.MODELS)}."


def test_the_simulator_serves_model_pages_the_official_client_reads(checked, simulator_client):
    model = simulator_client.models.get(EDIT)

    assert (model.owner, model.name) == ("wan-video", "wan-2.7-videoedit")
    schemas = model.latest_version.openapi_schema["components"]["schemas"]
    assert schemas["Input"]["required"] == ["video", "prompt"]
    assert schemas["Input"]["properties"]["resolution"]["allOf"] == [
        {"$ref": "#/components/schemas/resolution"}
    ]
    assert schemas["resolution"]["enum"] == ["720p", "1080p"]
    assert schemas["Input"]["properties"]["duration"] == {
        "type": "integer",
        "title": "duration",
        "minimum": 2,
        "maximum": 10,
        "x-order": 5,
    }
    before = model.latest_version.id
    change(checked, EDIT, audio_setting=None)
    assert simulator_client.models.get(EDIT).latest_version.id != before  # a new version


def test_an_unknown_model_is_404_and_a_changed_schema_refuses_predictions(checked):
    base = checked.base_url
    headers = {"Authorization": "Bearer test"}
    missing = httpx.get(f"{base}/v1/models/wan-video/wan-9", headers=headers)
    assert missing.status_code == 404
    assert httpx.get(f"{base}/v1/models/{T2V_1_3B}").status_code == 401  # no token

    change(checked, T2V_1_3B, sample_steps=None)
    refused = httpx.post(
        f"{base}/v1/models/{T2V_1_3B}/predictions",
        headers=headers,
        json={"input": {"prompt": "A red fox in the snow", "sample_steps": 20}},
    )
    assert refused.status_code == 422
    assert refused.json()["invalid_fields"][0]["field"] == "input.sample_steps"


def test_replicate_out_of_reach_is_a_sentence(settings):
    configure(settings, base_url=f"http://127.0.0.1:{free_port()}")

    output, error = check_models()

    assert error is not None
    assert error.startswith(
        "Could not check the models: Replicate could not be reached to describe the model "
        "wan-video/wan-2.1-1.3b"
    )
    assert output == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            Answer(200, {"Content-Type": "text/html"}, b"<html>Maintenance</html>"),
            "Could not check the models: Replicate sent an unreadable answer to describe the "
            "model wan-video/wan-2.1-1.3b",
        ),
        (
            Answer(200, {"Content-Type": "application/json"}, b'{"latest_version": null}'),
            "Could not check the models: Replicate described wan-video/wan-2.1-1.3b without "
            "an input schema.",
        ),
        (
            Answer(401, {"Content-Type": "application/json"}, b'{"detail": "Invalid token"}'),
            "Could not check the models: Replicate could not describe the model "
            "wan-video/wan-2.1-1.3b: Invalid token.",
        ),
    ],
)
def test_an_answer_without_a_schema_is_a_sentence(settings, start_server, answer, message):
    server: LocalServer = start_server(answer)
    configure(settings, base_url=server.url)

    error = check_models("--model", "t2v-1.3B")[1]

    assert error is not None and error.startswith(message)


def test_a_model_replicate_no_longer_has_is_breaking(settings, start_server):
    server = start_server(Answer(404, {"Content-Type": "application/json"}, b'{"detail": "x"}'))
    configure(settings, base_url=server.url)

    output, error = check_models("--model", "s2v-2.2")

    assert "  BREAKING: Replicate has no model wan-video/wan-2.2-s2v." in output
    assert error is not None


@pytest.mark.django_db
def test_a_model_turned_off_is_marked_and_refused_without_a_charge(
    settings, logged_in, user, api: APIClient
):
    settings.DISABLED_MODELS = ["t2v-1.3B"]

    page = logged_in.get(reverse("create")).content.decode()
    assert "Wan 2.1 text-to-video 1.3B (temporarily unavailable)" in page
    response = logged_in.post(reverse("create"), create_form(model_key="t2v-1.3B"))
    assert response.status_code == 422
    assert "Wan 2.1 text-to-video 1.3B is temporarily unavailable" in response.content.decode()
    refused = api.post(
        "/api/v1/generations/",
        {"model_key": "t2v-1.3B", "resolution": "480p", "prompt": "A red fox in the snow"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["model_key"] == [
        "Wan 2.1 text-to-video 1.3B is temporarily unavailable; choose another model."
    ]
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


@pytest.mark.django_db
def test_the_daily_job_passes_then_fails_and_counts_a_broken_schema(checked, client, settings):
    job = scheduler.JOBS.get("check_models")
    assert job.every == 86400
    assert job.call() == "17 Replicate models take what the catalog sends"

    change(checked, "wan-video/wan-2.2-s2v", audio=None)
    with pytest.raises(scheduler.JobFailed) as failed:
        job.call()

    assert str(failed.value) == (
        "breaking differences in s2v-2.2: s2v-2.2: we send `audio`, which the model no longer "
        "takes."
    )
    settings.METRICS_TOKEN = "scrape"
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).content.decode()
    assert "wan_model_schema_breaks_total 1.0" in scraped


def test_the_daily_job_waits_for_replicate_to_be_set_up(settings):
    settings.REPLICATE_API_TOKEN = ""
    assert scheduler.JOBS.get("check_models").call() == "Replicate is not set up"
