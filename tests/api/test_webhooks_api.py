"""The webhook endpoints API: register (the secret shown once), list, change, disable, delete,
rotate, send a test event, read deliveries and send one again; other users' endpoints are not
there, and bad input is a 400 with the field."""

from __future__ import annotations

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from tests.factories import api_client
from tests.fixtures.local_servers import Answer, StartServer
from tests.generations.lifecycle_helpers import run_tasks
from tests.wan_pwa.webhook_receiver import event_of, signatures_valid_for
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.com/wan"


def register(api: APIClient, url: str = URL, events=("generation.succeeded",)) -> dict:
    answer = api.post(
        "/api/v1/webhooks/", {"url": url, "events": list(events), "description": "prod"}
    )
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_an_endpoint_is_registered_with_its_secret_shown_once(api: APIClient):
    created = register(api)
    assert created["secret"].startswith("whsec_")
    assert created["url"] == URL and created["events"] == ["generation.succeeded"]
    assert created["enabled"] is True

    listed = api.get("/api/v1/webhooks/").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{created['id']}/").json()


def test_an_endpoint_is_changed_disabled_and_deleted(api: APIClient):
    endpoint_id = register(api)["id"]
    changed = api.patch(
        f"/api/v1/webhooks/{endpoint_id}/",
        {"events": ["order.paid", "credits.low"], "enabled": False},
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["order.paid", "credits.low"]
    assert changed.json()["enabled"] is False
    assert changed.json()["disabled_reason"] == "Disabled by you."
    assert api.post(f"/api/v1/webhooks/{endpoint_id}/test/").status_code == 409

    assert api.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert api.get(f"/api/v1/webhooks/{endpoint_id}/").status_code == 404


def test_rotation_returns_a_new_secret(api: APIClient):
    created = register(api)
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]


def test_a_test_event_is_delivered_logged_and_sent_again(
    api: APIClient, settings: Settings, start_server: StartServer
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = start_server(Answer(200, body=b"thanks"))
    created = register(api, url=receiver.url)
    queued = api.post(f"/api/v1/webhooks/{created['id']}/test/")
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    run_tasks()

    (delivery,) = api.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()["results"]
    assert delivery["type"] == "webhook.test" and delivery["status"] == "delivered"
    (attempt,) = delivery["attempts_log"]
    assert attempt["status_code"] == 200 and attempt["answer"] == "thanks"
    assert attempt["latency_ms"] is not None

    resend = f"/api/v1/webhooks/{created['id']}/deliveries/{delivery['id']}/resend/"
    assert api.post(resend).status_code == 202
    run_tasks()
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery["webhook_id"]
    assert signatures_valid_for(again, created["secret"])
    assert event_of(again)["type"] == "webhook.test"


def test_other_users_endpoints_and_deliveries_are_not_there(
    api: APIClient, other_user: User, settings: Settings, start_server: StartServer
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = start_server(Answer(200))
    theirs = register(api_client(user=other_user), url=receiver.url)
    api_client(user=other_user).post(f"/api/v1/webhooks/{theirs['id']}/test/")
    run_tasks()
    delivery_id = (
        api_client(user=other_user)
        .get(f"/api/v1/webhooks/{theirs['id']}/deliveries/")
        .json()["results"][0]["id"]
    )
    base = f"/api/v1/webhooks/{theirs['id']}/"
    mine = register(api)
    for method, path in [
        ("get", base),
        ("patch", base),
        ("delete", base),
        ("post", base + "rotate-secret/"),
        ("post", base + "test/"),
        ("get", base + "deliveries/"),
        ("post", base + f"deliveries/{delivery_id}/resend/"),
        # their delivery through my endpoint
        ("post", f"/api/v1/webhooks/{mine['id']}/deliveries/{delivery_id}/resend/"),
        ("get", f"/api/v1/webhooks/{2**63}/"),
    ]:
        answer = getattr(api, method)(path, {"enabled": False} if method == "patch" else None)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["code"] == "not_found"
    assert [e["id"] for e in api.get("/api/v1/webhooks/").json()] == [mine["id"]]
    assert WebhookEndpoint.objects.get(pk=theirs["id"]).enabled
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.example.com/", "events": ["order.paid"]}, "url"),
        ({"url": "https://192.168.0.1/", "events": ["order.paid"]}, "url"),
        ({"url": "https://[fd00::1]/", "events": ["order.paid"]}, "url"),
        ({"url": "https://localhost:8000/", "events": ["order.paid"]}, "url"),
        ({"url": "https://a:b@hooks.example.com/", "events": ["order.paid"]}, "url"),
        ({"url": "https://" + "a" * 2000 + ".com/", "events": ["order.paid"]}, "url"),
        ({"url": ["https://hooks.example.com/"], "events": ["order.paid"]}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["generation.started"]}, "events"),
        ({"url": URL, "events": "order.paid"}, "events"),
        ({"url": URL, "events": ["order.paid"], "description": "x" * 201}, "description"),
        ({"events": ["order.paid"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api: APIClient, body: dict, field: str):
    answer = api.post("/api/v1/webhooks/", body, format="json")
    assert answer.status_code == 400
    assert any(name.split(".")[0] == field for name in answer.json()["error"]["fields"])
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_limit_is_a_400(api: APIClient, settings: Settings):
    settings.WEBHOOK_ENDPOINTS_PER_USER = 3
    for _ in range(3):
        register(api)
    answer = api.post("/api/v1/webhooks/", {"url": URL, "events": ["order.paid"]})
    assert answer.status_code == 400
    assert "already have 3" in answer.json()["error"]["message"]
    assert WebhookEndpoint.objects.count() == 3


def test_a_bad_change_changes_nothing(api: APIClient):
    endpoint_id = register(api)["id"]
    answer = api.patch(
        f"/api/v1/webhooks/{endpoint_id}/", {"url": "https://10.0.0.1/", "enabled": "yes"}
    )
    assert answer.status_code == 400
    assert set(answer.json()["error"]["fields"]) == {"enabled"}
    answer = api.patch(f"/api/v1/webhooks/{endpoint_id}/", {"url": "https://10.0.0.1/"})
    assert answer.status_code == 400 and "url" in answer.json()["error"]["fields"]
    assert WebhookEndpoint.objects.get().url == URL


def test_the_signing_secret_is_the_accounts_own_and_stable(api: APIClient, other_user: User):
    mine = api.get("/api/v1/webhooks/signing-secret/").json()["secret"]
    assert mine.startswith("whsec_")
    assert api.get("/api/v1/webhooks/signing-secret/").json()["secret"] == mine
    theirs = api_client(user=other_user).get("/api/v1/webhooks/signing-secret/").json()
    assert theirs["secret"] != mine


def test_without_credentials_nothing_is_reached(db: None):
    assert APIClient().get("/api/v1/webhooks/").status_code == 401
    assert APIClient().post("/api/v1/webhooks/", {"url": URL}).status_code == 401


def test_test_events_past_the_pending_few_are_a_429(api: APIClient):
    endpoint_id = register(api)["id"]
    for _ in range(3):
        assert api.post(f"/api/v1/webhooks/{endpoint_id}/test/").status_code == 202
    refused = api.post(f"/api/v1/webhooks/{endpoint_id}/test/")
    assert refused.status_code == 429 and refused["Retry-After"] == "10"
    assert refused.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("scopes", "reads", "writes"),
    [
        (["generations:read"], 200, 403),
        (["generations:write"], 403, 201),
        (["credits:read", "billing"], 403, 403),
    ],
)
def test_a_key_reads_with_generations_read_and_writes_with_generations_write(
    user: User, scopes: list[str], reads: int, writes: int
):
    key = api_client(key=create_api_key(user, "scoped", scopes=scopes)[1])
    assert key.get("/api/v1/webhooks/").status_code == reads
    assert key.get("/api/v1/webhooks/signing-secret/").status_code == reads
    answer = key.post("/api/v1/webhooks/", {"url": URL, "events": ["order.paid"]})
    assert answer.status_code == writes
    if writes == 403:
        assert answer.json()["error"]["required_scope"] == "generations:write"
        assert not WebhookEndpoint.objects.exists()
