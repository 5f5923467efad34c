"""The generations endpoints: submit, list, read, cancel, retry, star, delete, download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.api.payloads import T2V
from tests.factories import PROMPT, api_client, make_generation, png_bytes, set_credits

if TYPE_CHECKING:  # what the API client answers, named in the DRF stubs only
    from rest_framework.response import _MonkeyPatchedResponse as ApiResponse

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"


def detail(generation_id: int, suffix: str = "") -> str:
    return f"{URL}{generation_id}/{suffix}"


def error_of(response: ApiResponse) -> dict[str, Any]:
    """The error object without the members every error has (tests/api/test_errors.py)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = dict(body["error"])
    assert error.pop("request_id") == response["X-Request-ID"]
    assert error.pop("doc_url").endswith(f"/api/docs/errors/#{error['code']}")
    return error


def test_submitting_charges_queues_and_points_to_the_new_generation(api, user, assert_audit_clean):
    wavespeed = {**T2V, "model_key": "t2v-14B", "seed": 7, "negative_prompt": "blurry"}
    response = api.post(URL, wavespeed, format="json")
    assert response.status_code == 201
    body = response.json()
    generation = Generation.objects.get(pk=body["id"])
    assert response["Location"] == f"http://testserver{detail(generation.pk)}"
    assert body["status"] == "queued" and body["progress"] == 0
    assert body["model_key"] == "t2v-14B" and body["seed"] == 7 and body["cost"] == 10
    assert body["negative_prompt"] == "blurry" and body["video_url"] is None
    assert generation.user == user and generation.status == Status.QUEUED
    assert balance_of(user) == 90
    assert_audit_clean()


def test_defaults_fill_resolution_and_aspect_ratio(api):
    response = api.post(URL, {"model_key": "t2v-14B", "prompt": PROMPT}, format="json")
    assert response.status_code == 201
    assert response.json()["resolution"] == "480p"
    assert response.json()["aspect_ratio"] == "16:9"
    assert response.json()["cost"] == 10


def test_the_same_idempotency_key_returns_the_same_generation_charged_once(api, user):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-1234"}
    first = api.post(URL, T2V, format="json", **headers)
    second = api.post(URL, T2V, format="json", **headers)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    assert Generation.objects.filter(user=user).count() == 1
    assert CreditTransaction.objects.filter(user=user, type=TransactionType.DEDUCTION).count() == 1
    assert balance_of(user) == 95


def test_keys_are_per_user(api, user, other_user):
    other = api_client(user=other_user)
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    mine = api.post(URL, T2V, format="json", **headers).json()["id"]
    theirs = other.post(URL, T2V, format="json", **headers).json()["id"]
    assert mine != theirs


def test_reusing_a_key_for_another_request_is_refused(api, user):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    api.post(URL, T2V, format="json", **headers)
    response = api.post(URL, {**T2V, "prompt": PROMPT + " at night"}, format="json", **headers)
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Generation.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused(api, key):
    response = api.post(URL, T2V, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_idempotency_key"
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prompt": "short"}, "prompt"),
        ({"prompt": "         padded         "}, "prompt"),
        ({"prompt": "x" * 501}, "prompt"),
        ({"model_key": "t2v-99B"}, "model_key"),
        ({"resolution": "720p"}, "resolution"),  # the 1.3B model offers 480p only
        ({"resolution": "4k"}, "resolution"),
        ({"aspect_ratio": "1:1"}, "aspect_ratio"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**31}, "seed"),
        ({"seed": "lucky"}, "seed"),
        ({"negative_prompt": "n" * 501}, "negative_prompt"),
        ({"model_key": "i2v-14B"}, "image"),  # image-to-video without an image
        ({"prompt": "A fox\x00 in the snow at dawn"}, "prompt"),
    ],
)
def test_invalid_submissions_name_the_field_and_change_nothing(api, user, changes, field):
    response = api.post(URL, {**T2V, **changes}, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"] and all(error["fields"][field])
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.post(URL, ["not", "an", "object"], format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_malformed_json_is_a_400(api):
    response = api.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_an_unsupported_content_type_is_a_415(api):
    response = api.post(URL, "<x/>", content_type="application/xml")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_an_oversized_json_body_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(URL, {**T2V, "negative_prompt": "n" * 2000}, format="json")
    assert response.status_code == 413, response.content
    assert error_of(response)["code"] == "payload_too_large"


def test_image_to_video_takes_a_multipart_upload(api, user):
    image = SimpleUploadedFile("fox.png", png_bytes(), content_type="image/png")
    data = {**T2V, "model_key": "i2v-14B", "image": image}
    response = api.post(URL, data, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["has_input_image"] is True
    assert response.json()["kind"] == "i2v"
    generation = Generation.objects.get(pk=response.json()["id"])
    assert generation.input_image.read() == png_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a not really", "not a valid JPEG, PNG or WebP"),
        (png_bytes()[:60], "not a valid JPEG, PNG or WebP"),
        (png_bytes((32, 32)), "at least 64 pixels"),
    ],
)
def test_bad_images_are_refused_like_on_the_pages(api, user, content, message):
    image = SimpleUploadedFile("x.png", content, content_type="image/png")
    response = api.post(URL, {**T2V, "model_key": "i2v-14B", "image": image}, format="multipart")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"]["image"])
    assert not Generation.objects.exists()
    assert balance_of(user) == 100


def test_text_to_video_refuses_an_image(api):
    image = SimpleUploadedFile("fox.png", png_bytes(), content_type="image/png")
    response = api.post(URL, {**T2V, "image": image}, format="multipart")
    assert response.status_code == 400
    assert "image" in error_of(response)["fields"]


def test_too_few_credits_is_a_402_with_the_amounts(api, user):
    set_credits(user, 2)
    response = api.post(URL, T2V, format="json")
    assert response.status_code == 402
    assert error_of(response) == {
        "code": "insufficient_credits",
        "message": "This needs 5 credits but only 2 are available.",
        "needed": 5,
        "available": 2,
    }
    assert not Generation.objects.exists()


def test_the_list_is_yours_newest_first_with_a_cursor(api, user, other_user):
    mine = [
        make_generation(user, status=Status.QUEUED, prompt=f"{PROMPT} #{n}", charged=False)
        for n in range(25)
    ]
    make_generation(other_user, status=Status.QUEUED)
    first = api.get(URL).json()
    assert [g["id"] for g in first["results"]] == [g.pk for g in reversed(mine)][:20]
    assert first["previous"] is None and first["next"]
    second = api.get(first["next"]).json()
    assert [g["id"] for g in second["results"]] == [g.pk for g in reversed(mine)][20:]
    assert second["next"] is None
    small = api.get(URL, {"page_size": 3}).json()
    assert len(small["results"]) == 3


def test_the_list_filters_by_status_and_star(api, user):
    queued = make_generation(user, status=Status.QUEUED)
    failed = make_generation(user, status=Status.FAILED)
    starred = make_generation(user, status=Status.SUCCEEDED, starred=True)
    ids = lambda **query: [g["id"] for g in api.get(URL, query).json()["results"]]  # noqa: E731
    assert ids(status="failed") == [failed.pk]
    assert ids(starred="true") == [starred.pk]
    assert ids(starred="false") == [failed.pk, queued.pk]
    assert ids(status="succeeded", starred="false") == []


def test_deleted_generations_are_not_listed(api, user):
    make_generation(user, status=Status.FAILED)
    gone = make_generation(user, status=Status.FAILED)
    assert api.delete(detail(gone.pk)).status_code == 204
    assert gone.pk not in [g["id"] for g in api.get(URL).json()["results"]]
    assert api.get(detail(gone.pk)).status_code == 404


@pytest.mark.parametrize("query", [{"status": "done"}, {"starred": "maybe"}, {"cursor": "garbage"}])
def test_bad_list_parameters_are_a_400(api, query):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == list(query)


def test_listing_costs_the_same_queries_for_1_or_30_generations(api, user):
    make_generation(user, status=Status.SUCCEEDED, video=b"mp4")
    api.get(URL)  # the key's last-used time is written on first use
    with CaptureQueriesContext(connection) as one:
        api.get(URL)
    for _ in range(29):
        make_generation(user, status=Status.SUCCEEDED, video=b"mp4", charged=False)
    with CaptureQueriesContext(connection) as thirty:
        assert len(api.get(URL, {"page_size": 30}).json()["results"]) == 30
    assert len(one) == len(thirty) <= 3


def test_retrieve_shows_the_generation(api, user):
    generation = make_generation(user, status=Status.PROCESSING, progress=40)
    body = api.get(detail(generation.pk)).json()
    assert body["id"] == generation.pk and body["status"] == "processing"
    assert body["progress"] == 40


def test_cancel_stops_and_refunds(api, user, assert_audit_clean):
    generation_id = api.post(URL, T2V, format="json").json()["id"]
    response = api.post(detail(generation_id, "cancel/"))
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert balance_of(user) == 100
    again = api.post(detail(generation_id, "cancel/"))
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"
    assert balance_of(user) == 100
    assert_audit_clean()


def test_retry_makes_a_new_charged_generation(api, user):
    generation_id = api.post(URL, T2V, format="json").json()["id"]
    api.post(detail(generation_id, "cancel/"))
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    response = api.post(detail(generation_id, "retry/"), **headers)
    assert response.status_code == 201
    assert response.json()["retried_from"] == generation_id
    assert response.json()["prompt"] == PROMPT
    replay = api.post(detail(generation_id, "retry/"), **headers)
    assert replay.json()["id"] == response.json()["id"]
    assert balance_of(user) == 95


def test_only_failed_or_canceled_generations_can_be_retried(api, user):
    generation = make_generation(user, status=Status.SUCCEEDED)
    response = api.post(detail(generation.pk, "retry/"))
    assert response.status_code == 409
    assert Generation.objects.count() == 1


def test_retry_without_credits_is_a_402(api, user):
    generation = make_generation(user, status=Status.FAILED, model_key="t2v-1.3B")
    set_credits(user, 0)
    response = api.post(detail(generation.pk, "retry/"))
    assert response.status_code == 402
    assert error_of(response)["needed"] == 5


def test_star_and_unstar(api, user):
    generation = make_generation(user, status=Status.QUEUED)
    assert api.post(detail(generation.pk, "star/")).json()["starred"] is True
    assert api.delete(detail(generation.pk, "star/")).json()["starred"] is False
    generation.refresh_from_db()
    assert generation.starred is False


def test_a_generation_in_progress_cannot_be_deleted(api, user):
    generation = make_generation(user, status=Status.PROCESSING)
    response = api.delete(detail(generation.pk))
    assert response.status_code == 409
    assert "Cancel" in error_of(response)["message"]


def test_the_video_downloads_once_ready(api, user):
    generation = make_generation(user, status=Status.SUCCEEDED, video=b"\x00\x00\x00\x18ftypmp42")
    body = api.get(detail(generation.pk)).json()
    assert body["video_url"] == f"http://testserver{detail(generation.pk, 'video/')}"
    response = api.get(body["video_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"\x00\x00\x00\x18ftypmp42"


def test_the_video_download_answers_range_requests(api, user):
    video = bytes(range(256)) * 4
    generation = make_generation(user, status=Status.SUCCEEDED, video=video)
    response = api.get(detail(generation.pk, "video/"), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == video[100:200]
    beyond = api.get(detail(generation.pk, "video/"), HTTP_RANGE=f"bytes={len(video)}-")
    assert beyond.status_code == 416


def test_no_video_before_it_is_ready(api, user):
    generation = make_generation(user, status=Status.PROCESSING)
    response = api.get(detail(generation.pk, "video/"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "video_not_ready"


def test_a_missing_video_file_is_not_a_500(api, user):
    generation = make_generation(user, status=Status.SUCCEEDED, video=b"mp4")
    generation.video.storage.delete(generation.video.name)
    response = api.get(detail(generation.pk, "video/"))
    assert response.status_code == 409
    assert error_of(response)["code"] == "video_missing"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("delete", ""),
        ("post", "cancel/"),
        ("post", "retry/"),
        ("post", "star/"),
        ("delete", "star/"),
        ("get", "video/"),
    ],
)
def test_other_users_generations_are_not_found(api, other_user, method, suffix):
    theirs = make_generation(other_user, status=Status.SUCCEEDED, video=b"mp4")
    response = getattr(api, method)(detail(theirs.pk, suffix))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and not theirs.starred
    assert Generation.objects.count() == 1


@pytest.mark.parametrize("generation_id", ["abc", "-1", "99999999999999999999", "0"])
def test_odd_ids_are_not_found(api, generation_id):
    response = api.get(detail(generation_id))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL),
        ("post", URL),
        ("get", detail(1)),
        ("delete", detail(1)),
        ("post", detail(1, "cancel/")),
        ("post", detail(1, "retry/")),
        ("post", detail(1, "star/")),
        ("get", detail(1, "video/")),
        ("get", "/api/v1/credits/"),
        ("get", "/api/v1/credits/ledger/"),
    ],
)
def test_every_endpoint_but_the_catalog_needs_authentication(method, path):
    response = getattr(APIClient(), method)(path)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_methods_not_offered_answer_405(api, user):
    generation = make_generation(user, status=Status.QUEUED)
    response = api.put(detail(generation.pk), {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/webhooks/1%0A/test/"])
def test_unknown_api_urls_answer_in_the_error_shape(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    hint = api.get("/api/v1/generations")
    assert "/api/v1/generations/" in error_of(hint)["message"]
