"""The webhooks a generation's ending and a paid order send to API users' endpoints: written
in the transaction of the ending, once per endpoint however often Replicate repeats itself,
with the generation exactly as the API shows it; and the per-request `webhook` of POST
/api/v1/generations/, signed with the account's per-request secret."""

from __future__ import annotations

import pytest
import respx
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from credits.actions import OrderOutcome, fulfil_checkout
from generations.lifecycle.transitions import apply_prediction_update, cancel_generation
from generations.models import Generation
from tests.credits.stripe_support import paid_session
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.fixtures.local_servers import Answer, LocalServer, StartServer
from tests.generations.lifecycle_helpers import (
    post_webhook,
    prediction,
    run_tasks,
    submit,
    tiny_mp4,
    update,
)
from tests.wan_pwa.webhook_receiver import event_of, signatures_valid_for
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks import actions
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint, WebhookEvent

SITE = "https://wan.example"
VIDEO_URL = "https://replicate.delivery/xyz/output.mp4"
GENERATION_EVENTS = ["generation.succeeded", "generation.failed", "generation.canceled"]


@pytest.fixture(autouse=True)
def local_receivers(settings: Settings, replicate_settings: None) -> None:
    settings.SITE_URL = SITE
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]


@pytest.fixture
def receiver(start_server: StartServer) -> LocalServer:
    return start_server(Answer(200))


@pytest.fixture
def video(replicate_api: ReplicateAPI) -> respx.Route:
    replicate_api.cancel_any()
    route = replicate_api.download(VIDEO_URL)
    route.respond(200, content=tiny_mp4(), headers={"Content-Type": "video/mp4"})
    return route


def subscribe(user: User, receiver: LocalServer, events=GENERATION_EVENTS) -> str:
    return actions.create_endpoint(user, receiver.url + "/hook", events)[1]


def api_view_of(user: User, generation: Generation) -> dict:
    api = APIClient()
    api.force_authenticate(user)
    return api.get(f"/api/v1/generations/{generation.pk}/").json()


def test_a_failure_repeated_by_replicate_is_sent_once_as_the_api_shows_it(
    client: Client, user: User, receiver: LocalServer
):
    secret = subscribe(user, receiver)
    generation = submit(user)
    failed = prediction("p-1", "failed", error="CUDA out of memory")
    for _ in range(2):  # Replicate sends the same ending twice, and the watchdog learns it too
        assert post_webhook(client, generation, failed).status_code < 300
    apply_prediction_update(generation.pk, update("p-1", "failed", error="CUDA out of memory"))
    run_tasks()
    run_tasks()

    (received,) = receiver.received
    assert signatures_valid_for(received, secret)
    event = event_of(received)
    assert event["type"] == "generation.failed"
    shown = api_view_of(user, generation)
    assert event["data"] == {**shown, "updated_at": event["data"]["updated_at"]}
    assert event["data"]["status"] == "failed" and event["data"]["failure_reason"]


def test_a_success_is_sent_once_the_video_is_stored_with_its_absolute_url(
    client: Client, user: User, receiver: LocalServer, video: respx.Route
):
    subscribe(user, receiver)
    generation = submit(user)
    done = prediction("p-1", "succeeded", output=VIDEO_URL)
    post_webhook(client, generation, done)
    post_webhook(client, generation, done)
    run_tasks()  # copies the video, then delivers

    (received,) = receiver.received
    event = event_of(received)
    assert event["type"] == "generation.succeeded"
    assert event["data"]["status"] == "succeeded"
    assert event["data"]["video_url"] == f"{SITE}/api/v1/generations/{generation.pk}/video/"


def test_a_cancel_is_sent_to_endpoints_that_take_it_only(
    user: User, receiver: LocalServer, start_server: StartServer, replicate_api: ReplicateAPI
):
    replicate_api.cancel_any()
    subscribe(user, receiver, ["generation.canceled"])
    other = start_server(Answer(200))
    subscribe(user, other, ["generation.succeeded", "generation.failed"])
    generation = submit(user)

    cancel_generation(generation)
    run_tasks()

    assert [event_of(r)["type"] for r in receiver.received] == ["generation.canceled"]
    assert other.received == []


def test_the_per_request_webhook_is_sent_on_completion_signed_with_the_account_secret(
    client: Client, user: User, api: APIClient, receiver: LocalServer
):
    subscribe(user, receiver, ["order.paid"])  # a registered endpoint that takes nothing here
    answer = api.post(
        "/api/v1/generations/",
        {
            "model_key": "t2v-1.3B",
            "prompt": "A red fox running through fresh snow at dawn",
            "webhook": receiver.url + "/for-this-one",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    generation = Generation.objects.get(pk=answer.json()["id"])
    secret = api.get("/api/v1/webhooks/signing-secret/").json()["secret"]
    # The per-request endpoint is not one of the user's listed endpoints.
    assert [e["url"] for e in api.get("/api/v1/webhooks/").json()] == [receiver.url + "/hook"]

    post_webhook(client, generation, prediction("p-1", "failed", error="boom"))
    run_tasks()

    (received,) = receiver.received
    assert received.path == "/for-this-one"
    assert signatures_valid_for(received, secret)
    assert event_of(received)["data"]["id"] == generation.pk


def test_the_per_request_filter_leaves_out_other_endings_and_a_replay_adds_no_second_webhook(
    client: Client, user: User, api: APIClient, receiver: LocalServer
):
    body = {
        "model_key": "t2v-1.3B",
        "prompt": "A red fox running through fresh snow at dawn",
        "webhook": receiver.url,
        "webhook_events_filter": ["succeeded"],
    }
    first = api.post("/api/v1/generations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/generations/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert WebhookEndpoint.objects.filter(user=user).count() == 1

    generation = Generation.objects.get(pk=first.json()["id"])
    post_webhook(client, generation, prediction("p-1", "failed", error="boom"))
    run_tasks()
    assert receiver.received == []


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"webhook": "http://example.com/hook"}, "webhook"),
        ({"webhook": "https://10.0.0.7/hook"}, "webhook"),
        ({"webhook": "https://169.254.169.254/latest"}, "webhook"),
        ({"webhook": "https://localhost/hook"}, "webhook"),
        ({"webhook": "x" * 3000}, "webhook"),
        ({"webhook": 42}, "webhook"),
        ({"webhook": "https://example.com/", "webhook_events_filter": ["started"]}, None),
        ({"webhook": "https://example.com/", "webhook_events_filter": []}, None),
        ({"webhook_events_filter": ["succeeded"]}, "webhook_events_filter"),
    ],
)
def test_a_bad_per_request_webhook_is_refused_and_nothing_is_charged(
    user: User, api: APIClient, settings: Settings, extra: dict, field: str | None
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    body = {"model_key": "t2v-1.3B", "prompt": "A red fox running through fresh snow", **extra}
    answer = api.post("/api/v1/generations/", body, format="json")
    assert answer.status_code == 400, answer.json()
    fields = answer.json()["error"]["fields"]
    assert field is None or field in fields
    assert not Generation.objects.exists() and not WebhookEndpoint.objects.exists()


def test_a_paid_order_is_sent_once(user: User, receiver: LocalServer, db: None):
    secret = subscribe(user, receiver, ["order.paid"])
    session = paid_session(user)
    order_id = int(session.client_reference_id)
    assert fulfil_checkout(session).outcome == OrderOutcome.GRANTED
    assert fulfil_checkout(session).outcome == OrderOutcome.ALREADY_GRANTED
    run_tasks()

    (received,) = receiver.received
    assert signatures_valid_for(received, secret)
    assert event_of(received)["data"] == {
        "order_id": order_id,
        "credits": 50,
        "amount": 500,
        "currency": "usd",
    }
    assert WebhookEvent.objects.get().key == f"order:{order_id}"
