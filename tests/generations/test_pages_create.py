"""The create page: the form, its checks, the charge, idempotency and remix."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credits.models import CreditTransaction
from credits.selectors import balance_of
from generations import catalog
from generations.images import (
    ACCEPTED_CONTENT_TYPES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MIN_IMAGE_SIDE,
)
from generations.models import Generation, Status
from tests.factories import PROMPT, make_generation, png_bytes, set_credits
from tests.pages import CREATING_MODEL_KEYS, HX, create_form, found

pytestmark = pytest.mark.django_db


def i2v_data(image: SimpleUploadedFile | str, **overrides: Any) -> dict[str, Any]:
    return create_form(kind="i2v", model_key="i2v-14B", image=image, **overrides)


def test_create_page_offers_the_catalog_with_cost_balance_and_a_fresh_idempotency_key(logged_in):
    response = logged_in.get(reverse("create"))
    assert response.status_code == 200
    page = response.content.decode()
    data = json.loads(found(r'id="catalog-data"[^>]*>(.*?)</script>', page, re.S)[1])
    # And the talking portrait, which starts from an image and a track, not from a video.
    assert {model["key"] for model in data["models"]} == CREATING_MODEL_KEYS | {"s2v-2.2"}
    assert "data-cost>10<" in page  # t2v 14B 480p, the default
    assert f">0/{catalog.PROMPT_MAX_LENGTH}</output>" in page  # the prompt's counter
    assert "data-balance-view>100<" in page
    key = found(r'name="idempotency_key" value="([0-9a-f]{32})"', page)[1]
    again = logged_in.get(reverse("create")).content.decode()
    assert key not in again
    assert "low-credits" not in page


def test_submitting_charges_the_cost_and_lists_the_generation(logged_in, user):
    response = logged_in.post(reverse("create"), create_form(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("history")
    generation = Generation.objects.get(user=user)
    assert (generation.status, generation.cost, generation.prompt) == (Status.QUEUED, 10, PROMPT)
    assert balance_of(user) == 90
    page = response.content.decode()
    assert f"Generation #{generation.pk} started" in page
    assert "90 credits" in page  # the header balance
    assert f'id="generation-{generation.pk}"' in page


def test_the_same_idempotency_key_twice_makes_one_generation_and_one_charge(logged_in, user):
    first = logged_in.post(reverse("create"), create_form(idempotency_key="double-click"))
    second = logged_in.post(reverse("create"), create_form(idempotency_key="double-click"))
    assert first.status_code == second.status_code == 302
    assert Generation.objects.filter(user=user).count() == 1
    assert CreditTransaction.objects.filter(user=user, type="deduction").count() == 1
    assert balance_of(user) == 90


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": "too short"}, "The prompt must be 10 to 500 characters long (it is 9)."),
        ({"prompt": "x" * 501}, "The prompt must be 10 to 500 characters long (it is 501)."),
        ({"prompt": "   "}, "This field is required."),
        ({"model_key": "t2v-1.3B", "resolution": "720p"}, "offers 480p, not"),
        ({"model_key": "no-such-model"}, "Select a valid choice."),
        ({"aspect_ratio": "4:3"}, "Select a valid choice."),
        ({"seed": "-1"}, "greater than or equal to 0"),
        ({"seed": "abc"}, "Enter a whole number."),
        ({"kind": "i2v"}, "Choose a model for image to video."),
    ],
)
def test_bad_input_is_a_form_error_and_creates_nothing(logged_in, user, overrides, message):
    response = logged_in.post(reverse("create"), create_form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "The video was not started" in response.content.decode()  # the error toast
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_image_to_video_stores_the_upload_under_an_unguessable_name(logged_in, user):
    image = SimpleUploadedFile("holiday photo.png", png_bytes(), content_type="image/png")
    assert logged_in.post(reverse("create"), i2v_data(image)).status_code == 302
    generation = Generation.objects.get(user=user)
    assert generation.kind == "i2v"
    assert generation.input_image.name.startswith("inputs/")
    assert "holiday" not in generation.input_image.name
    assert len(generation.input_image.name) > len("inputs/") + 30


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("fake.png", b"this is not a picture", content_type="image/png"),
            "This file is not a valid JPEG, PNG or WebP image.",
        ),
        (
            SimpleUploadedFile("anim.gif", b"GIF89a" + b"\x00" * 64, content_type="image/gif"),
            "This file is not a valid JPEG, PNG or WebP image.",
        ),
        (
            SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * (10 * 1024 * 1024)),
            "The image is larger than 10 MB",
        ),
    ],
)
def test_bad_images_are_refused_by_the_server(logged_in, user, upload, message):
    response = logged_in.post(reverse("create"), i2v_data(upload))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_image_to_video_without_an_image_is_refused(logged_in):
    response = logged_in.post(reverse("create"), create_form(kind="i2v", model_key="i2v-14B"))
    assert response.status_code == 422
    assert "Image-to-video needs an input image." in response.content.decode()


def test_the_script_checks_the_limits_the_server_applies(logged_in, monkeypatch):
    monkeypatch.setattr(catalog, "PROMPT_MAX_LENGTH", 300)
    page = logged_in.get(reverse("create")).content.decode()
    data = json.loads(found(r'id="catalog-data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert data["prompt"] == {"min": catalog.PROMPT_MIN_LENGTH, "max": 300}
    assert data["image"] == {
        "types": list(ACCEPTED_CONTENT_TYPES),
        "max_bytes": MAX_IMAGE_BYTES,
        "max_size": "10 MB",
        "min_side": MIN_IMAGE_SIDE,
        "max_pixels": MAX_IMAGE_PIXELS,
    }
    assert "JPEG, PNG or WebP, at most 10 MB." in page


def test_an_image_sent_with_a_text_to_video_model_is_refused_as_by_the_api(logged_in, user):
    image = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    response = logged_in.post(reverse("create"), create_form(image=image))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Text-to-video takes no input image; choose image-to-video." in body
    assert "The video was not started" in body
    assert not Generation.objects.exists()
    assert not CreditTransaction.objects.filter(user=user, type="deduction").exists()
    assert balance_of(user) == 100


def test_the_create_page_varies_on_hx_request(logged_in):
    page, form = logged_in.get(reverse("create")), logged_in.get(reverse("create"), **HX)
    assert "HX-Request" in page["Vary"] and "HX-Request" in form["Vary"]
    assert form.content.decode().lstrip().startswith('<form id="create-form"')


def test_too_few_credits_is_refused_with_a_link_to_get_more(logged_in, user):
    set_credits(user, 5)
    page = logged_in.get(reverse("create")).content.decode()
    assert "low-credits" not in page  # 5 left: enough for the cheapest video
    response = logged_in.post(reverse("create"), create_form())
    assert response.status_code == 422
    body = response.content.decode()
    assert "This needs 10 credits but only 5 are available." in body
    assert reverse("billing") in body  # "Buy credits"
    assert not Generation.objects.exists()


def test_the_low_credit_warning_shows_below_the_cheapest_video(logged_in, user):
    set_credits(user, 4)
    page = logged_in.get(reverse("create")).content.decode()
    assert 'data-testid="low-credits"' in page
    assert "the cheapest video costs 5" in page


def test_htmx_submission_redirects_the_browser_and_keeps_the_toast_for_the_next_page(logged_in):
    response = logged_in.post(reverse("create"), create_form(), **HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("history")
    assert b"toast" not in response.content
    page = logged_in.get(reverse("history")).content.decode()
    assert "started: 10 credits reserved" in page


def test_htmx_form_errors_answer_the_form_alone_with_toast_and_balance(logged_in):
    response = logged_in.post(reverse("create"), create_form(prompt="short"), **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="create-form"')
    assert "<html" not in body
    assert 'hx-swap-oob="beforeend:#toasts"' in body
    assert 'id="credit-balance"' in body and 'hx-swap-oob="true"' in body
    assert 'aria-invalid="true"' in body


def test_remix_prefills_the_form_with_the_parameters(logged_in, user):
    source = make_generation(user, prompt="A lighthouse in a storm, waves crashing", seed=42)
    page = logged_in.get(reverse("create") + f"?remix={source.pk}").content.decode()
    assert "A lighthouse in a storm, waves crashing</textarea>" in page
    assert 'name="seed" value="42"' in page


def test_remix_of_someone_elses_generation_is_an_empty_form(logged_in, make_user):
    other = make_generation(make_user("mallory"), prompt="Mallory's secret prompt here")
    page = logged_in.get(reverse("create") + f"?remix={other.pk}").content.decode()
    assert "secret prompt" not in page
    assert logged_in.get(reverse("create") + "?remix=abc").status_code == 200


def test_remixing_an_image_to_video_reuses_its_image_as_a_copy(logged_in, user):
    source = make_generation(user, model_key="i2v-14B")
    page = logged_in.get(reverse("create") + f"?remix={source.pk}").content.decode()
    assert reverse("generation-file", args=[source.pk, "input"]) in page
    data = i2v_data("", remix_of=str(source.pk), idempotency_key="remix")
    data.pop("image")
    assert logged_in.post(reverse("create"), data).status_code == 302
    remix = Generation.objects.exclude(pk=source.pk).get()
    assert remix.input_image and remix.input_image.name != source.input_image.name
    assert remix.input_image.read() == source.input_image.read()


def test_create_needs_the_csrf_token(client, user):
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("create"), create_form()).status_code == 403
    assert not Generation.objects.exists()


def test_the_in_flight_cap_applies_to_the_page_too(logged_in, user, settings):
    settings.MAX_IN_FLIGHT_PER_USER = 1
    make_generation(user, status=Status.PROCESSING)
    response = logged_in.post(reverse("create"), create_form())
    assert response.status_code == 422
    assert "You have 1 generations in progress (at most 1)" in response.content.decode()
    assert Generation.objects.filter(user=user).count() == 1


def test_the_daily_spend_cap_stops_page_submissions_and_retries(logged_in, user, settings):
    failed = make_generation(user, status=Status.FAILED)
    settings.DAILY_CREDIT_SPEND_CAP = 0
    response = logged_in.post(reverse("create"), create_form())
    assert response.status_code == 422
    assert "budget for videos made with free credits is used up" in response.content.decode()
    page = logged_in.post(reverse("retry", args=[failed.pk]), follow=True).content.decode()
    assert "budget for videos made with free credits is used up" in page
    assert Generation.objects.filter(user=user).count() == 1
    assert balance_of(user) == 100
