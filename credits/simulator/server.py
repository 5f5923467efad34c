"""`StripeSimulator`: a real HTTP server for the part of Stripe's API the app calls, in Stripe's
form encoding, JSON and error shape, plus the hosted checkout page and control endpoints
(`/_sim/...`) to refund, dispute and settle disputes."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from . import saved_cards
from .delivery import DeliveryOptions, WebhookSender, signature_header
from .form_encoding import FormError, decode
from .page import checkout_page, portal_page
from .state import StripeError
from .subscriptions import SubscriptionState

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{pattern}$"), name)
    for method, pattern, name in [
        ("POST", r"/v1/checkout/sessions", "create_session"),
        ("GET", r"/v1/checkout/sessions/(?P<id>[\w]+)", "retrieve_session"),
        ("POST", r"/v1/checkout/sessions/(?P<id>[\w]+)/expire", "expire_session"),
        ("GET", r"/v1/checkout/sessions/(?P<id>[\w]+)/line_items", "line_items"),
        ("POST", r"/v1/refunds", "create_refund"),
        ("POST", r"/v1/customers", "create_customer"),
        ("POST", r"/v1/prices", "create_price"),
        ("POST", r"/v1/subscriptions/(?P<id>[\w]+)", "update_subscription"),
        ("DELETE", r"/v1/subscriptions/(?P<id>[\w]+)", "cancel_subscription"),
        ("POST", r"/v1/billing_portal/sessions", "create_portal_session"),
        (
            "GET",
            r"/v1/(?P<kind>refunds|charges|payment_intents|customers|prices|subscriptions"
            r"|invoices|events)/(?P<id>[\w]+)",
            "retrieve",
        ),
        ("POST", r"/v1/payment_intents", "create_payment_intent"),
        ("GET", r"/v1/(?P<kind>setup_intents|payment_methods)/(?P<id>[\w]+)", "retrieve"),
        ("GET", r"/v1/customers/(?P<id>[\w]+)/payment_methods", "payment_methods"),
        ("GET", r"/v1/events", "list_events"),
        ("GET", r"/checkout/(?P<id>[\w]+)", "page"),
        ("POST", r"/checkout/(?P<id>[\w]+)", "pay"),
        ("POST", r"/_sim/charges/(?P<id>[\w]+)/refund", "sim_refund"),
        ("POST", r"/_sim/charges/(?P<id>[\w]+)/dispute", "sim_dispute"),
        ("POST", r"/_sim/disputes/(?P<id>[\w]+)/(?P<outcome>won|lost)", "sim_close_dispute"),
        ("POST", r"/_sim/sessions/(?P<id>[\w]+)/settle", "sim_settle"),
        ("POST", r"/_sim/subscriptions/(?P<id>[\w]+)/advance", "sim_advance"),
        ("GET", r"/portal/(?P<id>[\w]+)", "portal"),
        ("POST", r"/portal/(?P<id>[\w]+)/(?P<action>plan|cancel|resume|card)", "portal_action"),
    ]
]
_KINDS = {
    "refunds": "refund",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "customers": "customer",
    "setup_intents": "setup_intent",
    "payment_methods": "payment_method",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "events": "event",
}


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    for route_method, pattern, name in _ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return name, match.groupdict()
    raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")


class StripeSimulator:
    """>>> sim = StripeSimulator(webhook_url="http://127.0.0.1:8000/api/webhooks/stripe",
    ...                          secret="whsec_...").start()
    >>> client = stripe.StripeClient("sk_test_x", base_addresses={"api": sim.base_url})

    Without `webhook_url`, events wait in `outbox` for the caller to deliver (`take_events`).
    `async_delay` is how long the pays-later card takes.
    """

    def __init__(
        self,
        *,
        secret: str,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        async_delay: float = 2.0,
        options: DeliveryOptions | None = None,
    ) -> None:
        self.secret = secret
        self.async_delay = async_delay
        self.outbox: list[dict[str, Any]] = []
        self._collecting: list[dict[str, Any]] | None = None
        self._httpd = _Server((host, port), self)
        self.base_url = f"http://{host}:{self._httpd.server_address[1]}"
        self.state = SubscriptionState(
            lambda sid: f"{self.base_url}/checkout/{sid}",
            self._publish,
            portal_url=lambda pid: f"{self.base_url}/portal/{pid}",
        )
        self.sender = (
            WebhookSender(webhook_url, secret, options or DeliveryOptions())
            if webhook_url
            else None
        )
        self._idempotent: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-simulator",
            daemon=True,
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self.sender:
            self.sender.stop()

    # Events --------------------------------------------------------------------------------

    def _publish(self, event: dict[str, Any]) -> None:
        if self._collecting is not None:
            self._collecting.append(event)
        else:
            self._flush([event])

    def _flush(self, events: list[dict[str, Any]]) -> None:
        if self.sender:
            self.sender.send(events)
        else:
            self.outbox.extend(events)

    def batch(self, action, *args: Any) -> Any:
        """Runs a state change and publishes its events together (so they can be reordered)."""
        events: list[dict[str, Any]] = []
        try:
            with self.state.lock:
                self._collecting = events
                try:
                    return action(*args)
                finally:
                    self._collecting = None
        finally:  # a refusal has its events too (payment_intent.payment_failed)
            self._flush(events)

    def take_events(self, *types: str) -> list[dict[str, Any]]:
        """The undelivered events (of these types, when given), removed from the outbox."""
        with self.state.lock:
            taken = [e for e in self.outbox if not types or e["type"] in types]
            self.outbox = [e for e in self.outbox if e not in taken]
        return taken

    def sign(self, event: dict[str, Any]) -> tuple[bytes, str]:
        body = json.dumps(event).encode()
        return body, signature_header(self.secret, body)

    # Operations also reachable over HTTP ---------------------------------------------------

    def pay(self, session_id: str, number: str, email: str = "") -> None:
        """The hosted page's button: pays the session, or in setup mode saves the card."""
        if self.state.get(session_id, "checkout.session")["mode"] == "setup":
            self.batch(self._complete_setup, session_id, number, email)
            self._wait_for_webhooks()
            return
        card = self.batch(self.state.pay, session_id, number, email)
        if card.outcome == "async":
            timer = threading.Timer(self.async_delay, self.settle, args=(session_id,))
            timer.daemon = True
            timer.start()
        if card.outcome == "declined":
            raise card.declined()
        self._wait_for_webhooks()

    def _wait_for_webhooks(self) -> None:
        if self.sender:  # Checkout waits for the webhook's answer before redirecting
            self.sender.wait_idle(timeout=10)

    def _complete_setup(self, session_id: str, number: str, email: str) -> None:
        session = self.state.get(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.")
        saved_cards.complete_setup(self.state, session, number, email)

    def settle(self, session_id: str, succeed: bool = True) -> None:
        self.batch(self.state.settle_async, session_id, succeed)

    def refund(self, charge_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refunds a charge (ch_...) or the charge of a payment (pi_..., as our orders show)."""
        params = {"charge": self._charge(charge_id)} | ({"amount": str(amount)} if amount else {})
        return self.batch(self.state.create_refund, params)

    def dispute(self, charge_id: str) -> dict[str, Any]:
        return self.batch(self.state.open_dispute, self._charge(charge_id))

    def _charge(self, charge_or_intent: str) -> str:
        if not charge_or_intent.startswith("pi_"):
            return charge_or_intent
        intent = self.state.get(charge_or_intent, "payment_intent")
        if not intent["latest_charge"]:
            raise StripeError(400, "This PaymentIntent has no charge yet.", param="payment_intent")
        return intent["latest_charge"]

    def close_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        return self.batch(self.state.close_dispute, dispute_id, outcome)

    def charge_of(self, session_id: str) -> str:
        session = self.state.get(session_id, "checkout.session")
        return self.state.get(session["payment_intent"], "payment_intent")["latest_charge"]

    # HTTP ----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: str, headers) -> tuple[int, Any]:
        name, args = _route(method, path)
        if path.startswith("/v1/"):
            self._authenticate(headers.get("Authorization", ""))
            params = decode(body if method == "POST" else query)
            key = headers.get("Idempotency-Key")
            if method == "POST" and key:
                return self._idempotently(
                    key, params, lambda: getattr(self, f"_{name}")(params, **args)
                )
            return 200, getattr(self, f"_{name}")(params, **args)
        return getattr(self, f"_{name}")(dict(parse_qsl(body or query)), **args)

    def _authenticate(self, authorization: str) -> None:
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key.startswith(("sk_", "rk_")):
            raise StripeError(401, "Invalid API Key provided.", code="api_key_invalid")

    def _idempotently(self, key: str, params: dict[str, Any], run) -> tuple[int, Any]:
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        with self.state.lock:
            seen = self._idempotent.get(key)
            if seen is None:
                try:
                    seen = (fingerprint, 200, run())
                except StripeError as error:
                    seen = (fingerprint, error.status, error.body)
                self._idempotent[key] = seen
        if seen[0] != fingerprint:
            raise StripeError(
                400,
                f"Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        return seen[1], seen[2]

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") == "setup":
            return self.batch(saved_cards.create_setup_session, self.state, params)
        return self.state.create_session(params)

    def _create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.batch(saved_cards.create_payment_intent, self.state, params)

    def _payment_methods(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        with self.state.lock:
            return saved_cards.payment_methods_of(self.state, id)

    def _retrieve_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        with self.state.lock:
            return self.state.view(self.state.get(id, "checkout.session"))

    def _expire_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self.batch(self.state.expire, id)

    def _line_items(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        session = self.state.get(id, "checkout.session")
        data = [
            {
                "id": f"li_{index}",
                "object": "item",
                "amount_total": int(item["price_data"]["unit_amount"]) * int(item["quantity"]),
                "currency": session["currency"],
                "description": item["price_data"]["product_data"]["name"],
                "quantity": int(item["quantity"]),
            }
            for index, item in enumerate(session["_line_items"])
        ]
        return {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{id}/line_items",
        }

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.batch(self.state.create_customer, params)

    def _create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.state.create_price(params)

    def _update_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self.batch(self.state.update_subscription, id, params)

    def _cancel_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self.batch(self.state.cancel_now, id)

    def _create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.state.create_portal_session(params)

    def advance(self, subscription_id: str) -> dict[str, Any]:
        """Renews the subscription (or ends it) as its period's end had come."""
        result = self.batch(self.state.advance, subscription_id)
        if self.sender:
            self.sender.wait_idle(timeout=10)
        return result

    def _sim_advance(self, form: dict[str, str], id: str) -> tuple[int, Any]:
        return 200, self.advance(id)

    def _portal(self, form: dict[str, str], id: str, notice: str = "") -> tuple[int, str]:
        with self.state.lock:
            portal = self.state.get(id, "billing_portal.session")
            subscriptions = self.state.subscriptions_of(portal["customer"])
            currency = (
                subscriptions[0]["items"]["data"][0]["price"]["currency"]
                if (subscriptions)
                else "usd"
            )
            return 200, portal_page(
                portal,
                subscriptions,
                self.state.monthly_prices(currency),
                notice=notice,
            )

    def _portal_action(self, form: dict[str, str], id: str, action: str) -> tuple[int, Any]:
        """The portal's forms: change plan (upgrades at once, prorated; downgrades at the
        period's end), cancel at the period's end or resume, and a new card."""
        with self.state.lock:
            portal = self.state.get(id, "billing_portal.session")
            live = [
                sub
                for sub in self.state.subscriptions_of(portal["customer"])
                if sub["status"] != "canceled"
            ]
        try:
            if action == "card":
                self.batch(self.state.update_card, portal["customer"], form.get("card", ""))
            elif not live:
                raise StripeError(400, "There is no subscription to change.")
            elif action == "plan":
                price = self.state.get(form.get("price", ""), "price")
                current = live[0]["items"]["data"][0]["price"]
                upgrade = price["unit_amount"] > current["unit_amount"]
                params = {
                    "items": [{"id": live[0]["items"]["data"][0]["id"], "price": price["id"]}],
                    "proration_behavior": "always_invoice" if upgrade else "none",
                }
                self.batch(self.state.update_subscription, live[0]["id"], params)
            else:
                flag = "true" if action == "cancel" else "false"
                self.batch(
                    self.state.update_subscription, live[0]["id"], {"cancel_at_period_end": flag}
                )
        except StripeError as error:
            return 400, self._portal(form, id, notice=error.body["error"]["message"])[1]
        if self.sender:
            self.sender.wait_idle(timeout=10)
        return 303, f"/portal/{id}"

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.batch(self.state.create_refund, params)

    def _retrieve(self, params: dict[str, Any], kind: str, id: str) -> dict[str, Any]:
        with self.state.lock:
            if kind == "events":
                for event in self.state.events:
                    if event["id"] == id:
                        return event
                raise StripeError(
                    404, f"No such event: '{id}'", code="resource_missing", param="id"
                )
            return self.state.view(self.state.get(id, _KINDS[kind]))

    def _list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        types = params.get("types") or ([params["type"]] if params.get("type") else None)
        events = [e for e in reversed(self.state.events) if not types or e["type"] in types]
        return {
            "object": "list",
            "data": events[:100],
            "has_more": len(events) > 100,
            "url": "/v1/events",
        }

    def _page(self, form: dict[str, str], id: str) -> tuple[int, str]:
        with self.state.lock:
            return 200, checkout_page(self.state.get(id, "checkout.session"))

    def _pay(self, form: dict[str, str], id: str) -> tuple[int, Any]:
        number = form.get("card", "")
        try:
            self.pay(id, number, form.get("email", ""))
        except StripeError as error:
            with self.state.lock:
                page = checkout_page(
                    self.state.get(id, "checkout.session"),
                    error=error.body["error"]["message"],
                    number=number,
                )
            return 402, page
        return 303, self.state.get(id, "checkout.session")["success_url"]

    def _sim_refund(self, form: dict[str, str], id: str) -> tuple[int, Any]:
        amount = form.get("amount")
        return 200, self.refund(id, int(amount) if amount and amount.isdigit() else None)

    def _sim_dispute(self, form: dict[str, str], id: str) -> tuple[int, Any]:
        return 200, self.dispute(id)

    def _sim_close_dispute(self, form: dict[str, str], id: str, outcome: str) -> tuple[int, Any]:
        return 200, self.close_dispute(id, outcome)

    def _sim_settle(self, form: dict[str, str], id: str) -> tuple[int, Any]:
        self.settle(id, form.get("outcome", "succeeded") == "succeeded")
        return 200, {"settled": id}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: StripeSimulator) -> None:
        self.simulator = simulator
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1_000_000)).decode("utf-8", "replace")
        try:
            status, result = self.server.simulator.handle(
                method, url.path, url.query, body, self.headers
            )
        except StripeError as error:
            status, result = error.status, error.body
        except FormError as error:
            status, result = 400, StripeError(400, str(error)).body
        if status == 303:
            self._send(303, b"", "text/plain", {"Location": result})
        elif isinstance(result, str):
            self._send(status, result.encode(), "text/html; charset=utf-8")
        else:
            self._send(status, json.dumps(result).encode(), "application/json")

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_sim")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
