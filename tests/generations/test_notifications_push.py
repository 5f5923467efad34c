"""Web Push when a generation ends, to a real push endpoint on 127.0.0.1 that checks the VAPID
signature and decrypts the payload (RFC 8291 aes128gcm) as a browser's push service would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core import mail
from django.core.management import call_command
from py_vapid import Vapid
from pytest_django import Settings

from credits.actions import add_credits
from generations.lifecycle.transitions import apply_prediction_update, cancel_generation
from generations.models import PushSubscription
from generations.notifications.actions import subscribe_push
from generations.notifications.push import SEND_DEADLINE_SECONDS
from tests.fixtures.fake_replicate import ReplicateAPI
from tests.fixtures.local_servers import Answer, Listener, StartServer
from tests.generations.lifecycle_helpers import make_due, run_tasks, submit, update
from wan_pwa.accounts.models import User

SITE = "https://wan.example"
CONTACT = "mailto:ops@wan.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class PushService:
    """A push service on 127.0.0.1: it records each message, answering `status`."""

    url: str
    status: int = 201
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def push_service(settings: Settings) -> Iterator[PushService]:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]  # as for local development
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append({"path": self.path, "headers": headers, "body": body})
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://localhost:{server.server_address[1]}"
    yield service
    server.shutdown()
    server.server_close()


@pytest.fixture
def vapid_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32))
    settings.WEBPUSH_VAPID_PUBLIC_KEY = b64url(public_bytes(key))
    settings.WEBPUSH_CONTACT = CONTACT
    settings.SITE_URL = SITE
    return key


@dataclass
class Device:
    """A browser's side of a subscription: its ECDH key and auth secret."""

    key: ec.EllipticCurvePrivateKey
    auth: bytes
    subscription: PushSubscription


def new_device(user: User, endpoint: str) -> Device:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    subscription = subscribe_push(
        user, endpoint=endpoint, p256dh=b64url(public_bytes(key)), auth=b64url(auth)
    )
    return Device(key, auth, subscription)


@pytest.fixture
def device(user: User, push_service: PushService, vapid_key: Any) -> Device:
    return new_device(user, f"{push_service.url}/push/device-1")


def end_with_failure(user: User, prediction_id: str = "p-1") -> int:
    generation = submit(user, seed=int(prediction_id.removeprefix("p-")))
    apply_prediction_update(
        generation.pk, update(prediction_id, "failed", error="NSFW content detected in the prompt.")
    )
    return generation.pk


def send_due_notifications() -> None:
    make_due("send_notifications")
    run_tasks()


def verify_vapid(authorization: str, service_url: str, vapid_key: ec.EllipticCurvePrivateKey):
    """The `vapid t=<JWT>, k=<key>` header: ES256-signed by the site's key, for this service."""
    scheme, params = authorization.split(" ", 1)
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    assert unb64url(values["k"]) == public_bytes(vapid_key)
    header, claims, signature = values["t"].split(".")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    # Raises InvalidSignature unless the site's private key signed exactly these bytes.
    vapid_key.public_key().verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64url(header))["alg"] == "ES256"
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == service_url
    assert decoded["sub"] == CONTACT
    assert decoded["exp"] > time.time()


def test_a_failed_generation_is_pushed_signed_and_encrypted_for_the_device(
    user: User, device: Device, push_service: PushService, vapid_key
):
    generation_id = end_with_failure(user)
    send_due_notifications()

    (message,) = push_service.received
    assert message["path"] == "/push/device-1"
    headers = message["headers"]
    assert headers["ttl"] == "86400"
    assert headers["content-encoding"] == "aes128gcm"
    verify_vapid(headers["authorization"], push_service.url, vapid_key)
    plain = http_ece.decrypt(
        message["body"], private_key=device.key, auth_secret=device.auth, version="aes128gcm"
    )
    payload = json.loads(plain)
    assert payload["title"] == "Your video could not be made"
    assert payload["url"] == f"{SITE}/generations/{generation_id}/"
    assert "The model's safety checker rejected the prompt." in payload["body"]


def test_each_device_of_the_user_gets_one_message_for_a_batch(
    user: User, device: Device, push_service: PushService, replicate_api: ReplicateAPI
):
    new_device(user, f"{push_service.url}/push/device-2")
    replicate_api.cancel_any()
    end_with_failure(user, "p-1")
    end_with_failure(user, "p-2")
    canceled = submit(user, seed=3)
    apply_prediction_update(canceled.pk, update("p-3", "processing"))
    cancel_generation(canceled)
    send_due_notifications()

    assert sorted(m["path"] for m in push_service.received) == ["/push/device-1", "/push/device-2"]
    plain = http_ece.decrypt(
        next(m for m in push_service.received if m["path"] == "/push/device-1")["body"],
        private_key=device.key,
        auth_secret=device.auth,
        version="aes128gcm",
    )
    assert json.loads(plain)["title"] == "2 videos failed"


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_deleted(
    status: int, user: User, device: Device, push_service: PushService
):
    push_service.status = status
    end_with_failure(user)
    send_due_notifications()
    assert len(push_service.received) == 1
    assert not PushSubscription.objects.exists()


def test_a_push_service_error_keeps_the_subscription_and_fails_nothing(
    user: User, device: Device, push_service: PushService
):
    push_service.status = 500
    end_with_failure(user)
    send_due_notifications()  # run_tasks fails the test if a task raised
    assert PushSubscription.objects.get() == device.subscription


def test_nothing_is_pushed_when_the_user_turned_push_off_or_push_is_not_configured(
    settings: Settings, user: User, device: Device, push_service: PushService
):
    user.notify_by_push = False
    user.save(update_fields=["notify_by_push"])
    end_with_failure(user, "p-1")
    send_due_notifications()
    user.notify_by_push = True
    user.save(update_fields=["notify_by_push"])
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    end_with_failure(user, "p-2")
    send_due_notifications()
    assert push_service.received == []
    assert mail.outbox == []


def test_the_low_balance_alert_is_pushed_to_the_devices_unless_push_is_off(
    user: User, device: Device, push_service: PushService
):
    add_credits(user, -96, description="spent")  # 4 left: below the cheapest video
    run_tasks()

    (message,) = push_service.received
    plain = http_ece.decrypt(
        message["body"], private_key=device.key, auth_secret=device.auth, version="aes128gcm"
    )
    payload = json.loads(plain)
    assert payload["title"] == "Your credits are running low"
    assert payload["url"] == f"{SITE}/settings/billing/" and payload["tag"] == "credits"
    assert "You have 4 credits left" in payload["body"]
    user.notify_by_push = False
    user.save(update_fields=["notify_by_push"])
    add_credits(user, 100, type="purchase", description="bought")
    add_credits(user, -100, description="spent again")  # a new fall, with push off
    run_tasks()
    assert len(push_service.received) == 1


def test_webpush_keys_prints_a_matching_pair(capsys: pytest.CaptureFixture[str]):
    call_command("webpush_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    private = Vapid.from_string(lines["WEBPUSH_VAPID_PRIVATE_KEY"])
    assert unb64url(lines["WEBPUSH_VAPID_PUBLIC_KEY"]) == public_bytes(private.private_key)


@pytest.mark.parametrize(
    "template",
    [
        "https://127.0.0.1:{port}/push",
        "https://localhost:{port}/push",  # a name that resolves to 127.0.0.1
        "https://[::ffff:127.0.0.1]:{port}/push",
        "http://localhost:{port}/push",
    ],
)
def test_a_stored_private_endpoint_is_never_connected_to(
    user: User, vapid_key: Any, listener: Listener, template: str
):
    """Saved before endpoints were checked, or its name resolves elsewhere since: the guard
    refuses it again when sending."""
    key = ec.generate_private_key(ec.SECP256R1())
    PushSubscription.objects.create(
        user=user,
        endpoint=template.format(port=listener.port),
        p256dh=b64url(public_bytes(key)),
        auth=b64url(os.urandom(16)),
    )
    end_with_failure(user)
    send_due_notifications()
    assert listener.accepted == 0


def test_a_push_service_redirect_is_not_followed(
    user: User, vapid_key: Any, push_service: PushService, start_server: StartServer
):
    inside = start_server(Answer(201), host="localhost")
    outside = start_server(
        Answer(307, headers={"Location": f"{inside.url}/admin"}), host="localhost"
    )
    new_device(user, f"{outside.url}/push/device-1")
    end_with_failure(user)
    send_due_notifications()
    assert len(outside.received) == 1
    assert inside.received == []
    assert PushSubscription.objects.exists()


def test_dead_and_dripping_push_services_do_not_hold_the_sending(
    user: User,
    device: Device,
    push_service: PushService,
    listener: Listener,
    dripping: Listener,
):
    """Nine of the user's ten devices never answer: those that accept and say nothing, and
    those that answer a byte at a time for ever. The tenth still gets its message, and the
    sending returns in bounded time."""
    for number in range(5):
        new_device(user, f"http://localhost:{listener.port}/push/dead-{number}")
    for number in range(4):
        new_device(user, f"http://localhost:{dripping.port}/push/slow-{number}")
    end_with_failure(user)
    started = time.monotonic()
    send_due_notifications()
    assert time.monotonic() - started < SEND_DEADLINE_SECONDS + 3
    assert (listener.accepted, dripping.accepted) == (5, 4)
    assert [message["path"] for message in push_service.received] == ["/push/device-1"]
