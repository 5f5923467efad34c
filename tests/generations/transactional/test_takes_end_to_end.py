"""Edit by instruction from end to end: the API over HTTP (a live server, which also receives the
simulator's webhooks), the submission to the simulator over HTTP, the copy, and the take played
back; then a retry of a take, whose source was deleted meanwhile."""

from __future__ import annotations

import base64

import pytest

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.models import Status
from tests.factories import clip_bytes, make_generation
from tests.generations.takes_helpers import first_frame_and_size, run_until_ended

PROMPT = "Make it a snowy winter evening"


@pytest.mark.django_db(transaction=True)
def test_an_edit_by_instruction_goes_from_the_api_to_the_model_and_back_as_a_take(service, user):
    simulator, api = service
    source_video = clip_bytes(3.0, sound=True)
    source = make_generation(user, video=source_video)
    before = balance_of(user)

    response = api.post(
        "/generations/",
        json={
            "model_key": "edit-2.7",
            "resolution": "720p",
            "operation": "edit",
            "source_generation": source.pk,
            "prompt": PROMPT,
            "audio_setting": "origin",
        },
    )

    assert response.status_code == 201, response.text
    shown = response.json()
    take = run_until_ended(shown["id"])
    assert take.status == Status.SUCCEEDED, take.error_message
    # The cost shown is the cost charged: $0.10 a second of the source's 3 s.
    charge = CreditTransaction.objects.get(generation=take, type=TransactionType.DEDUCTION)
    assert shown["cost"] == -charge.amount == before - balance_of(user) == 12
    # Exactly what the model takes: the instruction, the source as a URL, the settings chosen.
    sent = simulator.prediction(str(take.prediction_id))["input"]
    assert sorted(sent) == ["audio_setting", "prompt", "resolution", "video"]
    assert (sent["prompt"], sent["resolution"], sent["audio_setting"]) == (PROMPT, "720p", "origin")
    header, _, data = sent["video"].partition(",")
    assert header == "data:video/mp4;base64"
    assert base64.b64decode(data) == take.input_video.open("rb").read()
    # The take plays: the source's frames, tinted, at its size, with its sound kept.
    played = api.get(f"/generations/{take.pk}/video/")
    assert played.status_code == 200
    colour, size, sound = first_frame_and_size(played.content)
    source_colour, source_size, _ = first_frame_and_size(source_video)
    assert (size, sound) == (source_size, True)
    assert max(abs(a - b) for a, b in zip(colour, source_colour, strict=True)) > 20
    # It is a take of the source, on both sides.
    assert api.get(f"/generations/{source.pk}/").json()["takes"] == [take.pk]
    assert api.get(f"/generations/{take.pk}/").json()["parent"] == source.pk


@pytest.mark.django_db(transaction=True)
def test_a_retried_take_keeps_its_operation_and_source_even_once_the_source_is_deleted(
    service, user
):
    simulator, api = service
    source = make_generation(user, video=clip_bytes(2.5))
    first = api.post(
        "/generations/",
        json={
            "model_key": "edit-2.7",
            "resolution": "720p",
            "operation": "edit",
            "source_generation": source.pk,
            "prompt": PROMPT,
        },
    ).json()
    assert api.post(f"/generations/{first['id']}/cancel/").json()["status"] == "canceled"
    assert api.delete(f"/generations/{source.pk}/").status_code == 204

    retried = api.post(f"/generations/{first['id']}/retry/")

    assert retried.status_code == 201, retried.text
    body = retried.json()
    assert (body["operation"], body["parent"], body["parent_deleted"]) == ("edit", source.pk, True)
    assert body["cost"] == first["cost"] == 10
    take = run_until_ended(body["id"])
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.retried_from_id == first["id"]
    assert simulator.prediction(str(take.prediction_id))["input"]["video"].startswith("data:")
