"""Checkouts are bounded: buying a pack again reuses the open order and its Stripe session, a
user has at most MAX_OPEN_CHECKOUTS orders awaiting payment, and turning back from Stripe's
page expires the session there and closes the order."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from credits.models import CreditPack, CreditTransaction, Order, OrderStatus, TransactionType
from credits.selectors import balance_of
from tests.credits.stripe_support import PAYS_LATER, checkout, deliver_all, pack, pay

pytestmark = pytest.mark.django_db

CHECKOUT_API = "/api/v1/credits/checkout/"


def sessions_opened(stripe_sim) -> int:
    return sum(obj["object"] == "checkout.session" for obj in stripe_sim.state.objects.values())


def session_status(stripe_sim, order: Order) -> str:
    return stripe_sim.state.get(order.checkout_session_id, "checkout.session")["status"]


def test_25_checkouts_of_one_pack_through_the_page_open_one_session(stripe_sim, logged_in, user):
    locations = {
        logged_in.post(reverse("billing-checkout"), {"pack": pack(500).pk})["Location"]
        for _ in range(25)
    }

    order = Order.objects.get(user=user)
    assert locations == {order.checkout_url}
    assert sessions_opened(stripe_sim) == 1


def test_25_checkouts_of_one_pack_through_the_api_open_one_session(stripe_sim, api, user):
    responses = [api.post(CHECKOUT_API, {"pack_id": pack(500).pk}) for _ in range(25)]

    assert [r.status_code for r in responses] == [201] + [200] * 24
    assert {r.json()["checkout_url"] for r in responses} == {
        Order.objects.get(user=user).checkout_url
    }
    assert {r.json()["order_id"] for r in responses} == {Order.objects.get(user=user).pk}
    assert sessions_opened(stripe_sim) == 1


def test_more_open_orders_than_the_limit_are_refused_on_the_page_and_the_api(
    stripe_sim, settings, logged_in, api, user
):
    settings.MAX_OPEN_CHECKOUTS = 2
    logged_in.post(reverse("billing-checkout"), {"pack": pack(100).pk})
    api.post(CHECKOUT_API, {"pack_id": pack(500).pk})

    page = logged_in.post(reverse("billing-checkout"), {"pack": pack(2000).pk})
    refused = api.post(CHECKOUT_API, {"pack_id": pack(2000).pk})

    assert page.status_code == 429
    assert "You already have 2 checkouts awaiting payment" in page.content.decode()
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_open_checkouts"
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    assert Order.objects.filter(user=user).count() == 2
    assert sessions_opened(stripe_sim) == 2
    # The open ones still come back, and canceling one frees its place.
    assert api.post(CHECKOUT_API, {"pack_id": pack(100).pk}).status_code == 200
    logged_in.get(reverse("billing-cancel", args=[Order.objects.get(credits=100).pk]))
    assert api.post(CHECKOUT_API, {"pack_id": pack(2000).pk}).status_code == 201


def test_the_limit_is_per_user(stripe_sim, settings, user, other_user):
    settings.MAX_OPEN_CHECKOUTS = 1
    checkout(user, 100)
    assert checkout(other_user, 100).user == other_user


def test_the_cancel_page_expires_the_session_and_billing_shows_the_order_closed(
    stripe_sim, logged_in, user
):
    order = checkout(user)

    page = logged_in.get(reverse("billing-cancel", args=[order.pk])).content.decode()
    billing = logged_in.get(reverse("billing")).content.decode()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert session_status(stripe_sim, order) == "expired"
    assert "Nothing was charged" in page
    assert "Canceled" in billing and "Awaiting payment" not in billing
    # Stripe's expired event arrives afterwards and changes nothing.
    assert deliver_all(stripe_sim, "checkout.session.expired") == ["no_change"]
    # Buying the pack again opens a new session.
    again = checkout(user)
    assert again.pk != order.pk and sessions_opened(stripe_sim) == 2


def test_billing_cancels_an_open_order_with_a_post(stripe_sim, logged_in, user):
    order = checkout(user)
    billing = logged_in.get(reverse("billing")).content.decode()
    assert f'data-testid="cancel-order-{order.pk}"' in billing

    logged_in.post(reverse("billing-cancel", args=[order.pk]))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert session_status(stripe_sim, order) == "expired"


def test_canceling_needs_the_csrf_token_and_the_owner(stripe_sim, user, other_user):
    order = checkout(user)
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(user)
    stranger = Client()
    stranger.force_login(other_user)

    assert forged.post(reverse("billing-cancel", args=[order.pk])).status_code == 403
    assert stranger.get(reverse("billing-cancel", args=[order.pk])).status_code == 404
    assert stranger.post(reverse("billing-cancel", args=[order.pk])).status_code == 404

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert session_status(stripe_sim, order) == "open"


def test_a_session_paid_before_the_cancel_keeps_its_payment_and_is_granted_once(
    stripe_sim, logged_in, user, assert_audit_clean
):
    order = checkout(user)
    pay(stripe_sim, order)  # paid at Stripe; the webhook has not arrived yet

    page = logged_in.get(reverse("billing-cancel", args=[order.pk])).content.decode()
    late = deliver_all(stripe_sim, "checkout.session.completed")

    order.refresh_from_db()
    assert "Already paid" in page
    assert order.status == OrderStatus.PAID
    assert late == ["already_granted"]
    assert CreditTransaction.objects.filter(order=order, type=TransactionType.PURCHASE).count() == 1
    assert balance_of(user) == 200
    assert_audit_clean()


def test_a_late_completed_event_for_a_closed_order_still_grants_once(
    stripe_sim, user, assert_audit_clean
):
    """Stripe charged although the order was closed here (its expired event came first, say):
    the money arrived, so the credits are due, once."""
    order = checkout(user)
    pay(stripe_sim, order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELED)

    assert deliver_all(stripe_sim, "checkout.session.completed") == ["granted"]

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert balance_of(user) == 200
    assert_audit_clean()


def test_an_order_whose_session_expired_at_stripe_is_closed_and_replaced(stripe_sim, user):
    order = checkout(user)
    stripe_sim.batch(stripe_sim.state.expire, order.checkout_session_id)  # no webhook yet

    again = checkout(user)

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert again.pk != order.pk and again.status == OrderStatus.PENDING
    assert sessions_opened(stripe_sim) == 2


def test_a_session_about_to_expire_is_ended_at_stripe_rather_than_handed_out(stripe_sim, user):
    order = checkout(user)
    session = stripe_sim.state.get(order.checkout_session_id, "checkout.session")
    session["expires_at"] = int(time.time()) + 60  # too little time left to pay

    again = checkout(user)

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert session["status"] == "expired"
    assert again.pk != order.pk


def test_a_session_paying_later_is_not_handed_out_again(stripe_sim, user):
    order = checkout(user)
    pay(stripe_sim, order, PAYS_LATER)  # complete at Stripe, the money still on its way

    again = checkout(user)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # its async payment event decides
    assert again.pk != order.pk


def test_a_changed_price_opens_a_new_order_at_the_new_price(stripe_sim, user):
    first = checkout(user)
    CreditPack.objects.filter(pk=first.pack_id).update(price=600)  # staff changed the price

    again = checkout(user)

    assert (again.pk != first.pk, again.amount) == (True, 600)


def test_a_cancel_while_stripe_is_unreachable_leaves_the_order_open_and_says_so(
    stripe_sim, settings, logged_in, user
):
    order = checkout(user)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there

    response = logged_in.get(reverse("billing-cancel", args=[order.pk]))

    order.refresh_from_db()
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    assert order.status == OrderStatus.PENDING
    assert session_status(stripe_sim, order) == "open"
