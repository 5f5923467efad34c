"""Settings > Notifications: the channels, and the push subscriptions devices record."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from generations.models import PushSubscription
from tests.fixtures.local_servers import Listener
from wan_pwa.accounts.models import User

if TYPE_CHECKING:  # what the test client answers, named in django-stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

# A push service's endpoint, on a public address written as one (the tests run without DNS).
ENDPOINT = "https://142.250.180.10/fcm/send/device-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint: str = ENDPOINT, p256dh: bytes | None = None) -> dict[str, object]:
    """What the browser's PushSubscription.toJSON() gives."""
    key = p256dh if p256dh is not None else b"\x04" + os.urandom(64)
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": b64url(key), "auth": b64url(os.urandom(16))},
    }


def post_json(client: Client, name: str, body: object) -> TestResponse:
    return client.post(reverse(name), body, content_type="application/json")


def test_settings_show_the_channels_and_the_device_button(settings: Settings, logged_in: Client):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = "BPublicKey"
    settings.WEBPUSH_VAPID_PRIVATE_KEY = "private"
    page = logged_in.get(reverse("settings")).content.decode()
    assert 'id="notifications"' in page
    assert 'data-testid="notify-by-email"' in page
    assert 'data-vapid-key="BPublicKey"' in page
    assert 'data-testid="push-subscribe"' in page
    assert "/static/js/push" in page


def test_without_vapid_keys_settings_say_push_is_not_set_up(settings: Settings, logged_in):
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    page = logged_in.get(reverse("settings")).content.decode()
    assert "Push notifications are not set up on this server." in page
    assert 'data-vapid-key=""' in page


def test_saving_the_channels(logged_in: Client, user: User):
    response = logged_in.post(reverse("notification-preferences"), {"notify_by_email": "on"})
    assert response.status_code == 302
    assert response["Location"].endswith("/settings/#notifications")
    user.refresh_from_db()
    assert (user.notify_by_email, user.notify_by_push) == (True, False)


def test_a_device_subscribes_once_per_endpoint_and_unsubscribes(logged_in: Client, user: User):
    assert post_json(logged_in, "push-subscribe", subscription()).status_code == 201
    again = post_json(logged_in, "push-subscribe", subscription())  # a new key, same device
    assert again.json() == {"devices": 1}
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.endpoint) == (user, ENDPOINT)

    removed = post_json(logged_in, "push-unsubscribe", {"endpoint": ENDPOINT})
    assert removed.json() == {"removed": True, "devices": 0}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        subscription(p256dh=b"\x04" + b"x" * 10),  # not a P-256 point
        subscription(endpoint="not a url"),
        {"endpoint": ENDPOINT},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_subscription_is_refused(logged_in: Client, body: object):
    assert post_json(logged_in, "push-subscribe", body).status_code == 400
    assert not PushSubscription.objects.exists()


def test_nobody_removes_another_users_device(logged_in: Client, other_user: User):
    PushSubscription.objects.create(user=other_user, endpoint=ENDPOINT, p256dh="k", auth="a")
    response = post_json(logged_in, "push-unsubscribe", {"endpoint": ENDPOINT})
    assert response.json()["removed"] is False
    assert PushSubscription.objects.filter(user=other_user).exists()


def test_subscribing_needs_a_signed_in_user(client: Client):
    response = post_json(client, "push-subscribe", subscription())
    assert response.status_code == 302
    assert not PushSubscription.objects.exists()


def test_the_service_worker_shows_pushed_messages_and_opens_the_video_on_click(client: Client):
    worker = client.get(reverse("service-worker")).content.decode()
    assert 'addEventListener("push"' in worker
    assert "showNotification" in worker
    assert 'addEventListener("notificationclick"' in worker
    assert "openWindow" in worker


@pytest.mark.parametrize(
    "template",
    [
        "https://127.0.0.1:{port}/push",
        "https://localhost:{port}/push",  # a name that resolves to 127.0.0.1
        "https://[::ffff:127.0.0.1]:{port}/push",
        "https://10.1.2.3/push",
        "https://169.254.169.254/latest/meta-data/",
        "http://142.250.180.10/fcm/send/device-1",  # public, but not https
    ],
)
def test_an_endpoint_that_is_not_a_public_https_host_is_refused(
    logged_in: Client, listener: Listener, template: str
):
    endpoint = template.format(port=listener.port)
    response = post_json(logged_in, "push-subscribe", subscription(endpoint))
    assert response.status_code == 400
    assert response.json()["message"].startswith("This push endpoint is refused:")
    assert not PushSubscription.objects.exists()
    assert listener.accepted == 0


def test_an_eleventh_device_replaces_the_oldest(logged_in: Client, user: User):
    endpoints = [f"{ENDPOINT}-{number}" for number in range(11)]
    for endpoint in endpoints:
        assert post_json(logged_in, "push-subscribe", subscription(endpoint)).status_code == 201
    stored = set(PushSubscription.objects.filter(user=user).values_list("endpoint", flat=True))
    assert stored == set(endpoints[1:])


def test_an_endpoint_stays_with_the_account_that_saved_it_first(
    client: Client, user: User, other_user: User
):
    first = subscription()
    client.force_login(user)
    assert post_json(client, "push-subscribe", first).status_code == 201
    client.force_login(other_user)
    response = post_json(client, "push-subscribe", subscription())  # the same endpoint
    assert response.status_code == 409
    assert response.json()["message"] == (
        "This browser already gets notifications for another account. Turn them off there first."
    )
    assert "alice" not in response.content.decode()
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.p256dh) == (user, first["keys"]["p256dh"])  # type: ignore[index]
