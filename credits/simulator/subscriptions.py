"""The simulator's recurring billing: prices, subscriptions made by Checkout in subscription
mode, their invoices (paid with the customer's card, or failed), renewals advanced on request
(like Stripe's test clocks), and what the Customer Portal changes. Objects follow the shapes of
the pinned API version: periods on the subscription items, invoices linked to their
subscription through `parent`, their payments in `payments`."""

from __future__ import annotations

import time
from typing import Any

from .state import TEST_CARDS, StripeError, StripeState, new_id

# A billing period of the simulator's monthly prices (Stripe uses calendar months).
PERIOD_SECONDS = 30 * 24 * 3600


def _price_line(price: dict[str, Any]) -> dict[str, Any]:
    """A subscription session's line item in the price_data form the hosted page lists."""
    return {
        "price_data": {
            "currency": price["currency"],
            "unit_amount": str(price["unit_amount"]),
            "product_data": {"name": f"{price['nickname']} (every month)"},
        },
        "quantity": "1",
    }


class SubscriptionState(StripeState):
    """StripeState with prices, subscriptions, invoices and portal sessions."""

    def __init__(self, *args: Any, portal_url: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.portal_url = portal_url or (lambda portal_id: f"/portal/{portal_id}")

    # Prices --------------------------------------------------------------------------------

    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = params.get("unit_amount")
        if not isinstance(amount, str) or not amount.isdigit() or not 0 < int(amount) < 10**8:
            raise StripeError(400, f"Invalid integer: {amount}", param="unit_amount")
        currency = params.get("currency")
        if not isinstance(currency, str) or len(currency) != 3:
            raise StripeError(400, "Missing required param: currency.", param="currency")
        product = params.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise StripeError(
                400, "Missing required param: product_data[name].", param="product_data"
            )
        recurring = params.get("recurring")
        if not isinstance(recurring, dict) or recurring.get("interval") != "month":
            raise StripeError(
                400,
                "The simulator's prices recur monthly: recurring[interval]=month.",
                param="recurring[interval]",
            )
        price_id = new_id("price")
        price = {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": currency.lower(),
            "unit_amount": int(amount),
            "recurring": {"interval": "month", "interval_count": 1},
            "product": new_id("prod"),
            "metadata": params.get("metadata") or {},
            "type": "recurring",
            "created": int(time.time()),
            "livemode": False,
            "nickname": product["name"],
        }
        with self.lock:
            self.objects[price_id] = price
        return self.view(price)

    def subscription_session(self, params: dict[str, Any]) -> dict[str, Any]:
        """The fields of a Checkout Session in subscription mode: one recurring price, for an
        existing customer (the app always sends its customer)."""
        items = params.get("line_items")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise StripeError(400, "The simulator takes one line item.", param="line_items")
        if items[0].get("quantity", "1") != "1":
            raise StripeError(400, "The quantity must be 1.", param="line_items[0][quantity]")
        price = self.get(str(items[0].get("price")), "price")
        customer = self.get(str(params.get("customer")), "customer")
        data = params.get("subscription_data") or {}
        return {
            "amount_subtotal": price["unit_amount"],
            "amount_total": price["unit_amount"],
            "currency": price["currency"],
            "customer": customer["id"],
            "customer_email": customer["email"],
            "subscription": None,
            "invoice": None,
            "_line_items": [_price_line(price)],
            "_price": price["id"],
            "_subscription_metadata": data.get("metadata") or {} if isinstance(data, dict) else {},
        }

    # Subscriptions -------------------------------------------------------------------------

    def start_subscription(self, session: dict[str, Any], number: str) -> None:
        """A paid subscription-mode session: the card is saved on the customer, the
        subscription starts and its first invoice is paid. Runs under the lock."""
        customer = self.objects[session["customer"]]
        customer["_card"] = number
        price = self.objects[session["_price"]]
        now = int(time.time())
        sub_id = new_id("sub")
        sub = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer["id"],
            "status": "incomplete",
            "items": {"object": "list", "data": []},
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
            "latest_invoice": None,
            "default_payment_method": None,
            "metadata": session["_subscription_metadata"],
            "collection_method": "charge_automatically",
            "start_date": now,
            "billing_cycle_anchor": now,
            "created": now,
            "livemode": False,
            "_now": now,
            "_scheduled_price": None,
        }
        sub["items"]["data"].append(
            {
                "id": new_id("si"),
                "object": "subscription_item",
                "price": self.view(price),
                "quantity": 1,
                "current_period_start": now,
                "current_period_end": now + PERIOD_SECONDS,
                "metadata": {},
                "subscription": sub_id,
            }
        )
        self.objects[sub_id] = sub
        invoice = self._invoice(sub, "subscription_create", [self._line(sub, price)])
        session.update(subscription=sub_id, invoice=invoice["id"])
        self._event("customer.subscription.created", sub)
        if not self._collect(invoice):
            raise StripeError(402, "Your card was declined.", type="card_error")

    def _item(self, sub: dict[str, Any]) -> dict[str, Any]:
        return sub["items"]["data"][0]

    def _line(
        self,
        sub: dict[str, Any],
        price: dict[str, Any],
        *,
        amount: int | None = None,
        start: int | None = None,
        proration: bool = False,
    ) -> dict[str, Any]:
        item = self._item(sub)
        return {
            "id": new_id("il"),
            "object": "line_item",
            "amount": price["unit_amount"] if amount is None else amount,
            "currency": price["currency"],
            "description": ("Remaining time on " if amount and amount > 0 and proration else "")
            + ("Unused time on " if amount is not None and amount < 0 else "")
            + price["nickname"],
            "period": {
                "start": item["current_period_start"] if start is None else start,
                "end": item["current_period_end"],
            },
            "quantity": 1,
            "pricing": {
                "type": "price_details",
                "price_details": {"price": price["id"], "product": price["product"]},
            },
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                    "proration": proration,
                },
            },
        }

    def _invoice(
        self, sub: dict[str, Any], reason: str, lines: list[dict[str, Any]]
    ) -> dict[str, Any]:
        total = sum(line["amount"] for line in lines)
        item = self._item(sub)
        invoice_id = new_id("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "customer": sub["customer"],
            "status": "open",
            "billing_reason": reason,
            "amount_due": max(total, 0),
            "amount_paid": 0,
            "amount_remaining": max(total, 0),
            "currency": lines[0]["currency"],
            "total": total,
            "subtotal": total,
            "attempt_count": 0,
            "hosted_invoice_url": None,
            "period_start": item["current_period_start"],
            "period_end": item["current_period_end"],
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": sub["id"],
                    "metadata": dict(sub["metadata"]),
                },
                "quote_details": None,
            },
            "lines": {"object": "list", "data": lines, "has_more": False},
            "payments": {"object": "list", "data": [], "has_more": False},
            "status_transitions": {"finalized_at": sub["_now"], "paid_at": None},
            "created": sub["_now"],
            "livemode": False,
        }
        self.objects[invoice_id] = invoice
        sub["latest_invoice"] = invoice_id
        self._event("invoice.created", invoice)
        self._event("invoice.finalized", invoice)
        return invoice

    def _collect(self, invoice: dict[str, Any]) -> bool:
        """Charges the open invoice to the customer's card; True when it is paid."""
        customer = self.objects[invoice["customer"]]
        sub = self.objects[invoice["parent"]["subscription_details"]["subscription"]]
        card = TEST_CARDS.get(customer.get("_card") or "")
        invoice["attempt_count"] += 1
        if invoice["amount_due"] == 0:
            paid = True
        elif card is None or card.outcome == "declined":
            paid = False
        else:
            intent = {
                "id": new_id("pi"),
                "object": "payment_intent",
                "amount": invoice["amount_due"],
                "currency": invoice["currency"],
                "customer": customer["id"],
                "status": "requires_payment_method",
                "latest_charge": None,
                "metadata": {},
                "created": int(time.time()),
                "livemode": False,
            }
            self.objects[intent["id"]] = intent
            self.succeed_intent(intent)
            invoice_payment = {
                "id": new_id("inpay"),
                "object": "invoice_payment",
                "invoice": invoice["id"],
                "payment": {"type": "payment_intent", "payment_intent": intent["id"]},
                "status": "paid",
                "amount_paid": invoice["amount_due"],
                "amount_requested": invoice["amount_due"],
                "currency": invoice["currency"],
                "is_default": True,
            }
            invoice["payments"]["data"].append(invoice_payment)
            self._event("invoice_payment.paid", invoice_payment)
            paid = True
        if not paid:
            self._event("invoice.payment_failed", invoice)
            if sub["status"] == "active":
                self._set_status(sub, "past_due")
            return False
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
        invoice["status_transitions"]["paid_at"] = sub["_now"]
        self._event("invoice.paid", invoice)
        self._event("invoice.payment_succeeded", invoice)
        if sub["status"] in {"incomplete", "past_due"}:
            self._set_status(sub, "active")
        return True

    def _set_status(self, sub: dict[str, Any], status: str) -> None:
        previous = sub["status"]
        sub["status"] = status
        self._updated(sub, {"status": previous})

    def _updated(self, sub: dict[str, Any], previous: dict[str, Any]) -> None:
        self._event("customer.subscription.updated", sub, previous_attributes=previous)

    def advance(self, sub_id: str) -> dict[str, Any]:
        """Moves the subscription's clock to the end of its period: it ends there when set to,
        goes unpaid when its last renewal is still unpaid, and otherwise renews, with a new
        invoice charged to the customer's card."""
        with self.lock:
            sub = self.get(sub_id, "subscription")
            if sub["status"] in {"canceled", "unpaid", "incomplete"}:
                raise StripeError(400, f"This subscription is {sub['status']}.")
            item = self._item(sub)
            end = item["current_period_end"]
            sub["_now"] = end
            if sub["cancel_at_period_end"]:
                sub.update(status="canceled", canceled_at=end, ended_at=end)
                self._event("customer.subscription.deleted", sub)
                return self.view(sub)
            if sub["status"] == "past_due":  # retries exhausted
                self._set_status(sub, "unpaid")
                return self.view(sub)
            if sub["_scheduled_price"]:
                item["price"] = self.view(self.objects[sub.pop("_scheduled_price")])
                sub["_scheduled_price"] = None
            previous = {"items": {"data": [{"current_period_start": item["current_period_start"]}]}}
            item.update(current_period_start=end, current_period_end=end + PERIOD_SECONDS)
            self._updated(sub, previous)
            price = self.objects[item["price"]["id"]]
            self._collect(self._invoice(sub, "subscription_cycle", [self._line(sub, price)]))
            return self.view(sub)

    def update_subscription(self, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """A change of price (upgrades prorated and invoiced at once with always_invoice,
        others from the next period) or of cancel_at_period_end."""
        with self.lock:
            sub = self.get(sub_id, "subscription")
            if sub["status"] in {"canceled", "incomplete_expired"}:
                raise StripeError(400, "A canceled subscription cannot be updated.")
            if "cancel_at_period_end" in params:
                flag = params["cancel_at_period_end"] == "true"
                if flag != sub["cancel_at_period_end"]:
                    end = self._item(sub)["current_period_end"]
                    sub.update(cancel_at_period_end=flag, cancel_at=end if flag else None)
                    self._updated(sub, {"cancel_at_period_end": not flag})
            items = params.get("items")
            if isinstance(items, list) and items and isinstance(items[0], dict):
                price = self.get(str(items[0].get("price")), "price")
                self._change_price(sub, price, params.get("proration_behavior", "none"))
            return self.view(sub)

    def _change_price(self, sub: dict[str, Any], price: dict[str, Any], proration: str) -> None:
        item = self._item(sub)
        old = self.objects[item["price"]["id"]]
        if price["currency"] != old["currency"]:
            raise StripeError(400, "The new price must be in the subscription's currency.")
        if price["id"] == old["id"]:
            sub["_scheduled_price"] = None
            return
        if proration != "always_invoice":
            sub["_scheduled_price"] = price["id"]
            return
        start, end = sub["_now"], item["current_period_end"]
        share = (end - start) / (end - item["current_period_start"])
        sub["_scheduled_price"] = None
        item["price"] = self.view(price)
        self._updated(sub, {"items": {"data": [{"price": self.view(old)}]}})
        lines = [
            self._line(sub, old, amount=-round(old["unit_amount"] * share), start=start),
            self._line(
                sub, price, amount=round(price["unit_amount"] * share), start=start, proration=True
            ),
        ]
        lines[0]["parent"]["subscription_item_details"]["proration"] = True
        self._collect(self._invoice(sub, "subscription_update", lines))

    def cancel_now(self, sub_id: str) -> dict[str, Any]:
        with self.lock:
            sub = self.get(sub_id, "subscription")
            if sub["status"] == "canceled":
                raise StripeError(400, "This subscription is already canceled.")
            sub.update(status="canceled", canceled_at=sub["_now"], ended_at=sub["_now"])
            self._event("customer.subscription.deleted", sub)
            return self.view(sub)

    def update_card(self, customer_id: str, number: str) -> None:
        """The portal's new card: saved, then the customer's open invoices are retried."""
        digits = "".join(ch for ch in number if ch.isdigit())
        if digits not in TEST_CARDS:
            raise StripeError(402, "Use a test card: 4242 4242 4242 4242.", type="card_error")
        with self.lock:
            customer = self.get(customer_id, "customer")
            customer["_card"] = digits
            for invoice in list(self.objects.values()):
                if (
                    invoice["object"] == "invoice"
                    and invoice["customer"] == customer_id
                    and invoice["status"] == "open"
                ):
                    self._collect(invoice)

    def subscriptions_of(self, customer_id: str) -> list[dict[str, Any]]:
        return [
            obj
            for obj in self.objects.values()
            if obj["object"] == "subscription" and obj["customer"] == customer_id
        ]

    def monthly_prices(self, currency: str) -> list[dict[str, Any]]:
        return sorted(
            (
                obj
                for obj in self.objects.values()
                if obj["object"] == "price" and obj["active"] and obj["currency"] == currency
            ),
            key=lambda price: price["unit_amount"],
        )

    # Customer Portal -----------------------------------------------------------------------

    def create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self.get(str(params.get("customer")), "customer")
        portal_id = new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "url": self.portal_url(portal_id),
            "return_url": params.get("return_url"),
            "customer": customer["id"],
            "configuration": "bpc_simulator",
            "created": int(time.time()),
            "livemode": False,
        }
        with self.lock:
            self.objects[portal_id] = portal
        return self.view(portal)
