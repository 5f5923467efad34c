"""The simulator's Stripe objects and what a payment, refund or dispute does to them. Every
change appends the events Stripe would send; the server delivers them."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

API_VERSION = "2026-10-28.endive"
SESSION_LIFETIME = 24 * 3600


class StripeError(Exception):
    """Answered in Stripe's error shape: {"error": {"type", "code", "message", "param"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, dict[str, Any]] = {
            "error": {
                key: value
                for key, value in {
                    "type": type,
                    "message": message,
                    "code": code,
                    "param": param,
                    "decline_code": decline_code,
                    "payment_intent": payment_intent,
                }.items()
                if value is not None
            }
        }


@dataclass(frozen=True)
class Card:
    outcome: str  # on the checkout page: "paid", "declined" or "async"
    decline_code: str = ""
    message: str = ""
    # Saved, then charged off-session (simulator/saved_cards.py): "paid", "declined" or
    # "authentication_required".
    later: str = "paid"
    saves: bool = True  # False: declined when saved, too

    def declined(self) -> StripeError:
        """What Stripe answers when this card is declined on the page."""
        return StripeError(
            402,
            self.message,
            type="card_error",
            code="card_declined",
            decline_code=self.decline_code,
        )


DECLINED = "Your card was declined."
NO_FUNDS = "Your card has insufficient funds."
TEST_CARDS = {
    "4242424242424242": Card("paid"),
    "4000000000000002": Card("declined", "generic_decline", DECLINED, "declined", False),
    "4000000000009995": Card("declined", "insufficient_funds", NO_FUNDS, later="declined"),
    # Simulator only: pays a few seconds later, like a bank debit (async_payment_succeeded).
    "4000000000001111": Card("async"),
    # Authenticated on the page; once set up, off-session payments need nobody.
    "4000002500003155": Card("paid"),
    # Needs its owner for every payment, off-session ones too.
    "4000002760003184": Card("paid", later="authentication_required"),
    # Saved without trouble (setup, the portal), declined whenever it is charged (refills,
    # renewals).
    "4000000000000341": Card("declined", "generic_decline", DECLINED, later="declined"),
}


def test_card(number: str) -> Card:
    card = TEST_CARDS.get("".join(ch for ch in number if ch.isdigit()))
    if card is None:
        raise StripeError(
            402,
            "Use a test card: 4242 4242 4242 4242.",
            type="card_error",
            code="incorrect_number",
        )
    return card


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _positive_int(params: dict[str, Any], key: str) -> int:
    value = params.get(key)
    if not isinstance(value, str) or not value.isdigit() or not 0 < int(value) < 10**8:
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=key
        )
    return int(value)


def _required(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise StripeError(
            400, f"Missing required param: {key}.", code="parameter_missing", param=key
        )
    return value


class StripeState:
    """Objects by id, under one lock; `publish` receives every new event."""

    def __init__(self, hosted_url: Callable[[str], str], publish: Callable[[dict], None]) -> None:
        self.lock = threading.RLock()
        self.hosted_url = hosted_url
        self.publish = publish
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._last_created = 0

    def get(self, object_id: str, kind: str) -> dict[str, Any]:
        found = self.objects.get(object_id)
        if found is None or found["object"] != kind:
            raise StripeError(
                404,
                f"No such {kind.replace('.', '_')}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return found

    def view(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in copy.deepcopy(obj).items() if not key.startswith("_")}

    def _event(
        self, type: str, obj: dict[str, Any], previous_attributes: dict | None = None
    ) -> None:
        # A second apart at least, so that `created` orders a burst of events the way it
        # orders Stripe's, whose steps (invoice, payment attempt, retry) lie further apart.
        self._last_created = max(int(time.time()), self._last_created + 1)
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self._last_created,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
            "data": {"object": self.view(obj)}
            | ({"previous_attributes": previous_attributes} if previous_attributes else {}),
        }
        self.events.append(event)
        self.publish(event)

    # Customers -----------------------------------------------------------------------------

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise StripeError(400, "Invalid metadata: must be a hash.", param="metadata")
        customer_id = new_id("cus")
        customer = {
            "id": customer_id,
            "object": "customer",
            "email": params.get("email") or None,
            "name": params.get("name") or None,
            "metadata": metadata,
            "invoice_settings": {"default_payment_method": None},
            "created": int(time.time()),
            "livemode": False,
        }
        with self.lock:
            self.objects[customer_id] = customer
            self._event("customer.created", customer)
        return self.view(customer)

    # Checkout Sessions ---------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode == "subscription":
            fields = self.subscription_session(params)
        elif mode == "payment":
            fields = self._payment_session(params)
        else:
            raise StripeError(400, "The simulator supports payment and subscription.", param="mode")
        session = (
            self.new_session(params, mode)
            | {
                "payment_status": "unpaid",
                "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
            }
            | fields
        )
        with self.lock:
            self.objects[session["id"]] = session
        return self.view(session)

    def new_session(self, params: dict[str, Any], mode: str) -> dict[str, Any]:
        """The fields every new Checkout Session has, whatever its mode."""
        success_url = _required(params, "success_url")
        session_id = new_id("cs")
        now = int(time.time())
        return {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "url": self.hosted_url(session_id),
            "payment_intent": None,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "customer_details": None,
            "metadata": params.get("metadata") or {},
            "success_url": success_url.replace("{CHECKOUT_SESSION_ID}", session_id),
            "cancel_url": params.get("cancel_url"),
            "created": now,
            "expires_at": now + SESSION_LIFETIME,
            "livemode": False,
            "ui_mode": "hosted_page",
        }

    def subscription_session(self, params: dict[str, Any]) -> dict[str, Any]:
        raise StripeError(400, "This simulator has no subscriptions.", param="mode")

    def start_subscription(self, session: dict[str, Any], number: str) -> None:
        raise NotImplementedError

    def _payment_session(self, params: dict[str, Any]) -> dict[str, Any]:
        items = params.get("line_items")
        if not isinstance(items, list) or not items or len(items) > 100:
            raise StripeError(400, "line_items must list 1 to 100 items.", param="line_items")
        total, currency = 0, None
        for index, item in enumerate(items):
            price = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(price, dict):
                raise StripeError(
                    400,
                    "Each line item needs price_data.",
                    param=f"line_items[{index}][price_data]",
                )
            item_currency = _required(price, "currency").lower()
            if currency not in (None, item_currency):
                raise StripeError(
                    400, "All line items must share one currency.", param="line_items"
                )
            currency = item_currency
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise StripeError(
                    400,
                    "Missing required param: product_data[name].",
                    param=f"line_items[{index}][price_data][product_data][name]",
                )
            total += _positive_int(price, "unit_amount") * _positive_int(item, "quantity")
        return {
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currency,
            "_line_items": items,
        }

    def expire(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            session = self.get(session_id, "checkout.session")
            if session["status"] != "open":
                raise StripeError(
                    400, f"Only open sessions can be expired; this one is {session['status']}."
                )
            session.update(status="expired", url=None)
            self._event("checkout.session.expired", session)
            return self.view(session)

    def pay(self, session_id: str, number: str, email: str) -> Card:
        """The hosted page's Pay button. A decline leaves the session open, as on Stripe."""
        card = test_card(number)
        with self.lock:
            session = self.get(session_id, "checkout.session")
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session is {session['status']}.")
            if session["mode"] == "subscription" and card.outcome != "declined":
                self.start_subscription(session, "".join(ch for ch in number if ch.isdigit()))
                session.update(
                    status="complete",
                    url=None,
                    payment_status="paid",
                    customer_details={"email": email or session["customer_email"]},
                )
                self._event("checkout.session.completed", session)
                return Card("paid")
            intent = self._intent(session)
            if card.outcome == "declined":
                intent["status"] = "requires_payment_method"
                intent["last_payment_error"] = {
                    "code": "card_declined",
                    "decline_code": card.decline_code,
                    "message": card.message,
                }
                self._event("payment_intent.payment_failed", intent)
                return card
            session.update(
                status="complete",
                url=None,
                customer_details={"email": email or session["customer_email"]},
            )
            if card.outcome == "async":
                intent["status"] = "processing"
                self._event("checkout.session.completed", session)
            else:
                self._succeed(session, intent)
                self._event("checkout.session.completed", session)
            return card

    def settle_async(self, session_id: str, succeed: bool = True) -> None:
        """The delayed payment of an async card arrives (or fails)."""
        with self.lock:
            session = self.get(session_id, "checkout.session")
            intent = self.get(session["payment_intent"], "payment_intent")
            if session["payment_status"] == "paid" or intent["status"] != "processing":
                return
            if succeed:
                self._succeed(session, intent)
                self._event("checkout.session.async_payment_succeeded", session)
            else:
                intent["status"] = "requires_payment_method"
                self._event("payment_intent.payment_failed", intent)
                self._event("checkout.session.async_payment_failed", session)

    def _intent(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["payment_intent"]:
            return self.objects[session["payment_intent"]]
        intent = {
            "id": new_id("pi"),
            "object": "payment_intent",
            "amount": session["amount_total"],
            "currency": session["currency"],
            "status": "requires_payment_method",
            "latest_charge": None,
            "metadata": session["_intent_metadata"],
            "created": int(time.time()),
            "livemode": False,
        }
        self.objects[intent["id"]] = intent
        session["payment_intent"] = intent["id"]
        return intent

    def _succeed(self, session: dict[str, Any], intent: dict[str, Any]) -> None:
        session["payment_status"] = "paid"
        self.succeed_intent(intent)

    def succeed_intent(self, intent: dict[str, Any]) -> None:
        """The intent's payment goes through: a charge, and their events."""
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "disputed": False,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "paid": True,
            "captured": True,
            "status": "succeeded",
            "receipt_url": None,
            "metadata": {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.objects[charge["id"]] = charge
        intent.update(status="succeeded", latest_charge=charge["id"])
        self._event("payment_intent.succeeded", intent)
        self._event("charge.succeeded", charge)

    # Refunds and disputes ------------------------------------------------------------------

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if params.get("charge"):
                charge = self.get(params["charge"], "charge")
            elif params.get("payment_intent"):
                intent = self.get(params["payment_intent"], "payment_intent")
                if not intent["latest_charge"]:
                    raise StripeError(
                        400,
                        "This PaymentIntent has no successful charge to refund.",
                        param="payment_intent",
                    )
                charge = self.objects[intent["latest_charge"]]
            else:
                raise StripeError(
                    400,
                    "Missing required param: charge or payment_intent.",
                    code="parameter_missing",
                    param="charge",
                )
            left = charge["amount"] - charge["amount_refunded"]
            amount = _positive_int(params, "amount") if "amount" in params else left
            if amount > left or left == 0:
                raise StripeError(
                    400,
                    f"Refund amount ({amount}) is greater than the unrefunded amount ({left})",
                    code="amount_too_large" if left else "charge_already_refunded",
                    param="amount",
                )
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "currency": charge["currency"],
                "status": "succeeded",
                "reason": params.get("reason"),
                "metadata": params.get("metadata") or {},
                "created": int(time.time()),
            }
            self.objects[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._event("refund.created", refund)
            self._event("charge.refunded", charge)
            return self.view(refund)

    def open_dispute(self, charge_id: str) -> dict[str, Any]:
        with self.lock:
            charge = self.get(charge_id, "charge")
            if charge["disputed"]:
                raise StripeError(400, "This charge is already disputed.", param="charge")
            dispute = {
                "id": new_id("dp"),
                "object": "dispute",
                "amount": charge["amount"],
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "currency": charge["currency"],
                "reason": "fraudulent",
                "status": "needs_response",
                "created": int(time.time()),
                "livemode": False,
            }
            self.objects[dispute["id"]] = dispute
            charge["disputed"] = True
            self._event("charge.dispute.created", dispute)
            self._event("charge.dispute.funds_withdrawn", dispute)
            return self.view(dispute)

    def close_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        if outcome not in {"won", "lost"}:
            raise StripeError(400, "The outcome is won or lost.", param="outcome")
        with self.lock:
            dispute = self.get(dispute_id, "dispute")
            if dispute["status"] in {"won", "lost"}:
                raise StripeError(400, f"This dispute is already {dispute['status']}.")
            dispute["status"] = outcome
            if outcome == "won":
                self._event("charge.dispute.funds_reinstated", dispute)
            self._event("charge.dispute.closed", dispute)
            return self.view(dispute)
