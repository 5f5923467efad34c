"""The local Stripe as the official client and a webhook receiver meet it: form encoding,
errors in Stripe's shape, idempotency keys, and signed deliveries retried, duplicated and
reordered on request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from credits.simulator import StripeSimulator
from credits.simulator.delivery import DeliveryOptions
from credits.simulator.form_encoding import decode
from credits.simulator.state import StripeError as SimulatedError
from tests.credits.stripe_support import PAID, WEBHOOK_SECRET
from tests.waiting import wait_until
from webhooks.stripe_signature import verify

SESSION = {
    "mode": "payment",
    "line_items": [
        {
            "price_data": {
                "currency": "usd",
                "unit_amount": 500,
                "product_data": {"name": "100 credits"},
            },
            "quantity": 1,
        }
    ],
    "success_url": "http://shop.test/ok?session_id={CHECKOUT_SESSION_ID}",
    "client_reference_id": "7",
}


def client(sim: StripeSimulator, key: str = "sk_test_x") -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": sim.base_url})


class Receiver(ThreadingHTTPServer):
    """Answers 200 to signed webhooks (500 to the first `fail` ones) and keeps them."""

    def __init__(self, fail: int = 0) -> None:
        self.received: list[dict] = []
        self.fail = fail
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                verify(secret=WEBHOOK_SECRET, header=self.headers["Stripe-Signature"], body=body)
                with receiver.lock:
                    failing = receiver.fail > 0
                    receiver.fail -= 1
                    if not failing:
                        receiver.received.append(json.loads(body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def types(self) -> list[str]:
        return [event["type"] for event in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.shutdown()


def simulator(receiver: Receiver, **options: object) -> StripeSimulator:
    return StripeSimulator(
        secret=WEBHOOK_SECRET,
        webhook_url=receiver.url,
        options=DeliveryOptions(retry_delay=0.05, **options),  # type: ignore[arg-type]
    ).start()


def test_stripe_form_encoding_is_read_back_into_nested_objects():
    assert decode("line_items[0][price_data][unit_amount]=500&expand[]=a&expand[]=b&m[k]=x+y") == {
        "line_items": [{"price_data": {"unit_amount": "500"}}],
        "expand": ["a", "b"],
        "m": {"k": "x y"},
    }


def test_the_official_client_creates_and_retrieves_a_session(receiver):
    sim = simulator(receiver)
    try:
        session = client(sim).v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
        again = client(sim).v1.checkout.sessions.retrieve(session.id)
    finally:
        sim.stop()
    assert (again.status, again.payment_status, again.amount_total) == ("open", "unpaid", 500)
    assert again.success_url == f"http://shop.test/ok?session_id={session.id}"


def test_an_open_session_expires_once_sends_its_event_and_can_no_longer_be_paid(receiver):
    sim = simulator(receiver)
    try:
        session = client(sim).v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
        expired = client(sim).v1.checkout.sessions.expire(session.id)
        with pytest.raises(stripe.InvalidRequestError, match="Only open sessions"):
            client(sim).v1.checkout.sessions.expire(session.id)
        with pytest.raises(SimulatedError, match="is expired"):
            sim.pay(session.id, PAID)
        wait_until(
            lambda: len(receiver.received) == 1, timeout=5, what="the expired-session webhook"
        )
    finally:
        sim.stop()
    assert (expired.status, expired.url) == ("expired", None)
    assert receiver.received[0]["type"] == "checkout.session.expired"
    assert receiver.received[0]["data"]["object"]["id"] == session.id


def test_errors_come_in_stripes_shape_and_map_to_the_clients_exceptions(receiver):
    sim = simulator(receiver)
    try:
        with pytest.raises(stripe.AuthenticationError):
            client(sim, key="nope").v1.checkout.sessions.retrieve("cs_x")
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client(sim).v1.checkout.sessions.retrieve("cs_missing")
        with pytest.raises(stripe.InvalidRequestError) as bad:
            client(sim).v1.checkout.sessions.create(params={**SESSION, "mode": "bogus"})  # type: ignore[arg-type]
    finally:
        sim.stop()
    assert missing.value.code == "resource_missing"
    assert bad.value.param == "mode"


def test_an_idempotency_key_replays_the_first_result_and_refuses_other_parameters(receiver):
    sim = simulator(receiver)
    options: stripe.RequestOptions = {"idempotency_key": "order-7"}
    try:
        first = client(sim).v1.checkout.sessions.create(params=SESSION, options=options)  # type: ignore[arg-type]
        replay = client(sim).v1.checkout.sessions.create(params=SESSION, options=options)  # type: ignore[arg-type]
        with pytest.raises(stripe.IdempotencyError):
            client(sim).v1.checkout.sessions.create(
                params={**SESSION, "client_reference_id": "8"},  # type: ignore[arg-type]
                options=options,
            )
    finally:
        sim.stop()
    assert replay.id == first.id


def test_a_payment_is_delivered_signed_before_the_redirect_and_a_failed_delivery_retried():
    receiver = Receiver(fail=1)
    sim = simulator(receiver)
    try:
        session = client(sim).v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
        sim.pay(session.id, PAID)
        delivered_before_redirect = "checkout.session.completed" in receiver.types()
        wait_until(lambda: len(receiver.received) == 3, timeout=5, what="three webhooks")
        attempts = [(a.type, a.attempt, a.status_code) for a in sim.sender.log]  # type: ignore[union-attr]
    finally:
        sim.stop()
        receiver.shutdown()
    assert delivered_before_redirect
    assert sorted(receiver.types()) == [
        "charge.succeeded",
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    assert attempts[0] == ("payment_intent.succeeded", 1, 500)
    assert ("payment_intent.succeeded", 2, 200) in attempts


def test_duplicates_and_reordering_on_request(receiver):
    sim = simulator(receiver, duplicate=True, reorder=True)
    try:
        session = client(sim).v1.checkout.sessions.create(params=SESSION)  # type: ignore[arg-type]
        sim.pay(session.id, PAID)
        wait_until(lambda: len(receiver.received) == 6, timeout=5, what="six webhooks")
    finally:
        sim.stop()
    assert receiver.types() == [
        "checkout.session.completed",
        "checkout.session.completed",
        "charge.succeeded",
        "charge.succeeded",
        "payment_intent.succeeded",
        "payment_intent.succeeded",
    ]
    assert receiver.received[0]["id"] == receiver.received[1]["id"]
