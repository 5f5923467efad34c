"""Settings > Developers, webhooks: add an endpoint (its secret shown once), a bad address
refused in the form, disable, enable, rotate, send a test event, delete; an endpoint's page
with its deliveries and "send again". Others' endpoints are not there; logged-out visitors
are sent to log in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from tests.fixtures.local_servers import Answer, StartServer
from tests.generations.lifecycle_helpers import run_tasks, scheduled_tasks
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks import actions
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
URL = "https://hooks.example.com/wan"


def add(client: Client, url: str = URL, **extra) -> tuple[int, str]:
    answer = client.post(
        "/settings/developers/webhooks/create/",
        {"url": url, "description": "prod", "events": ["generation.succeeded", "order.paid"]},
        **extra,
    )
    return answer.status_code, answer.content.decode()


def test_an_endpoint_is_added_with_its_secret_shown_once(logged_in: Client, user: User):
    status, page = add(logged_in, **HTMX)
    endpoint = WebhookEndpoint.objects.get(user=user)
    assert status == 201
    assert endpoint.secret in page and 'id="webhooks"' in page
    assert "<html" not in page  # the section alone
    assert endpoint.events == ["generation.succeeded", "order.paid"]

    settings_page = logged_in.get("/settings/").content.decode()
    assert URL in settings_page and endpoint.secret not in settings_page
    assert actions.signing_secret(user) in settings_page  # the per-request secret
    developers = logged_in.get("/settings/developers/").content.decode()
    assert "<html" in developers and URL in developers and endpoint.secret not in developers


def test_a_bad_address_is_refused_in_the_form(logged_in: Client, settings: Settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    status, page = add(logged_in, "https://127.0.0.1:8000/hook")
    assert status == 422 and "not a public internet address" in page
    status, page = add(logged_in, "http://hooks.example.com/")
    assert status == 422 and "Only https addresses" in page
    assert not WebhookEndpoint.objects.exists()


def test_the_list_buttons_disable_enable_rotate_test_and_delete(logged_in: Client, user: User):
    add(logged_in)
    endpoint = WebhookEndpoint.objects.get()
    base = f"/settings/developers/webhooks/{endpoint.pk}/"

    assert logged_in.post(base + "disable/", **HTMX).status_code == 200
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert logged_in.post(base + "test/").status_code == 302  # refused: disabled
    assert not WebhookEvent.objects.exists()
    logged_in.post(base + "enable/", **HTMX)

    old = endpoint.secret
    page = logged_in.post(base + "rotate/", **HTMX).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in page and "24 hours" in page

    for _ in range(actions.PENDING_TEST_EVENTS + 2):  # the extra ones are refused with a toast
        assert logged_in.post(base + "test/", **HTMX).status_code == 200
    assert set(WebhookEvent.objects.values_list("type", flat=True)) == {"webhook.test"}
    assert len(scheduled_tasks("deliver_webhook")) == actions.PENDING_TEST_EVENTS

    assert logged_in.post(base + "delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_page_changes_it_and_lists_deliveries_sent_again(
    logged_in: Client, user: User, settings: Settings, start_server: StartServer
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = start_server(Answer(418))
    endpoint, _ = actions.create_endpoint(user, receiver.url, ["order.paid"])
    event = actions.send_test_event(endpoint)
    run_tasks()
    page_url = f"/settings/developers/webhooks/{endpoint.pk}/"

    page = logged_in.get(page_url).content.decode()
    assert "webhook.test" in page and "418" in page and " ms" in page
    assert event.message_id in page

    assert logged_in.post(page_url + f"deliveries/{event.pk}/resend/").status_code == 302
    run_tasks()
    assert len(receiver.received) == 2

    answer = logged_in.post(
        page_url, {"url": receiver.url + "/v2", "events": ["credits.low"], "description": ""}
    )
    assert answer.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url + "/v2" and endpoint.events == ["credits.low"]
    bad = logged_in.post(page_url, {"url": receiver.url, "events": ["generation.started"]})
    assert bad.status_code == 422


def test_others_endpoints_are_not_there(logged_in: Client, other_user: User):
    theirs, _ = actions.create_endpoint(other_user, URL, ["order.paid"])
    event = actions.send_test_event(theirs)
    base = f"/settings/developers/webhooks/{theirs.pk}/"
    assert logged_in.get(base).status_code == 404
    assert logged_in.post(base, {"url": URL, "events": ["order.paid"]}).status_code == 404
    for action in ("disable", "rotate", "test", "delete"):
        assert logged_in.post(base + f"{action}/").status_code == 404
    assert logged_in.post(base + f"deliveries/{event.pk}/resend/").status_code == 404
    assert logged_in.post(base + "explode/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled and WebhookEvent.objects.count() == 1


def test_logged_out_visitors_are_sent_to_log_in(client: Client, db: None):
    for answer in (
        client.get("/settings/developers/"),
        client.post("/settings/developers/webhooks/create/", {"url": URL}),
    ):
        assert answer.status_code == 302 and "/login" in answer["Location"]
    assert not WebhookEndpoint.objects.exists()
