"""Billing pages: packs, checkout, the success page that only reads (racing the webhook), the
cancel page, orders and receipts; and the API's packs and checkout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from credits.actions import add_credits
from credits.models import Order, OrderStatus
from credits.selectors import balance_of
from tests.credits.stripe_support import buy, checkout, deliver_all, pack, pay

pytestmark = pytest.mark.django_db


def test_billing_lists_the_packs_and_links_from_settings_and_the_header(stripe_sim, logged_in):
    page = logged_in.get(reverse("billing")).content.decode()
    settings_page = logged_in.get(reverse("settings")).content.decode()

    assert "100 credits</strong> for 5.00 USD" in page
    assert "2000 credits</strong> for 70.00 USD" in page
    assert f'href="{reverse("billing")}"' in settings_page  # the Buy credits button and header
    assert "500 credits for 20.00 USD" in settings_page  # the same rows as Billing


def test_the_landing_page_shows_the_same_prices(client, stripe_sim):
    page = client.get("/").content.decode()
    assert "500 credits</strong> for 20.00 USD" in page
    assert "Pack credits and the free credits of a new account never expire." in page


def test_billing_shows_the_credits_by_bucket_with_their_expiry(stripe_sim, logged_in, user):
    add_credits(user, 1000, type="bonus", expires_at=datetime(2077, 1, 5, 12, tzinfo=UTC))
    add_credits(user, 20, description="sorry")

    page = logged_in.get(reverse("billing")).content.decode()

    listed = page.split('data-testid="credit-buckets">')[1].split("</ul>")[0]
    items = [" ".join(strip_tags(item).split()) for item in listed.split("</li>")[:-1]]
    assert items == [  # in spending order
        "1,000 bonus credits, expire on 5 January 2077",
        "100 bonus credits, never expire",
        "20 credits, never expire",
    ]
    assert "100 credits</strong> for 5.00 USD, never expire" in page


def test_checkout_redirects_to_the_session_page(stripe_sim, logged_in, user):
    response = logged_in.post(reverse("billing-checkout"), {"pack": pack(500).pk})

    order = Order.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == order.checkout_url
    assert order.checkout_url.startswith(stripe_sim.base_url)


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1", "1" * 40])
def test_checkout_of_an_unknown_pack_is_refused_with_a_message(stripe_sim, logged_in, value):
    response = logged_in.post(reverse("billing-checkout"), {"pack": value})

    assert response.status_code == 400
    assert "Pick one of the credit packs" in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_when_stripe_is_unreachable_answers_503_and_charges_nothing(
    settings, logged_in, user
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    response = logged_in.post(reverse("billing-checkout"), {"pack": pack().pk})

    assert response.status_code == 503
    assert "Nothing was charged" in response.content.decode()
    assert Order.objects.get(user=user).status == OrderStatus.FAILED


def test_the_success_page_before_the_webhook_grants_nothing_and_polls(
    stripe_sim, logged_in, user, assert_audit_clean
):
    order = checkout(user)
    pay(stripe_sim, order)  # paid on Stripe; the webhook has not arrived

    page = logged_in.get(reverse("billing-success", args=[order.pk]))
    poll = logged_in.get(
        reverse("billing-success", args=[order.pk]), headers={"HX-Request": "true"}
    )

    assert "Confirming your payment" in page.content.decode()
    assert 'hx-trigger="every 2s"' in poll.content.decode()
    assert balance_of(user) == 100
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING

    deliver_all(stripe_sim)
    done = logged_in.get(
        reverse("billing-success", args=[order.pk]), headers={"HX-Request": "true"}
    )

    assert "100 credits added" in done.content.decode()
    assert 'data-testid="success-balance">200<' in done.content.decode()
    assert "hx-trigger" not in done.content.decode()
    assert_audit_clean()


def test_the_cancel_page_says_nothing_was_charged(stripe_sim, logged_in, user):
    order = checkout(user)
    page = logged_in.get(reverse("billing-cancel", args=[order.pk])).content.decode()
    assert "Nothing was charged" in page


def test_orders_and_receipts_are_their_owners_only(stripe_sim, client, make_user):
    owner, other = make_user(), make_user()
    order = buy(stripe_sim, owner)
    client.force_login(owner)

    billing = client.get(reverse("billing")).content.decode()
    receipt = client.get(reverse("billing-receipt", args=[order.pk])).content.decode()
    client.force_login(other)

    assert reverse("billing-receipt", args=[order.pk]) in billing
    assert "5.00 USD" in receipt and order.payment_intent_id in receipt
    assert client.get(reverse("billing-receipt", args=[order.pk])).status_code == 404
    assert client.get(reverse("billing-success", args=[order.pk])).status_code == 404


def test_the_api_lists_the_packs_on_sale(logged_in, stripe_sim):
    packs = logged_in.get("/api/v1/credits/packs/").json()
    assert [(p["credits"], p["price"], p["currency"]) for p in packs] == [
        (100, 500, "usd"),
        (500, 2000, "usd"),
        (2000, 7000, "usd"),
    ]


def test_the_api_checkout_returns_a_checkout_url(stripe_sim, logged_in, user):
    response = logged_in.post("/api/v1/credits/checkout/", {"pack_id": pack(2000).pk})

    assert response.status_code == 201
    body = response.json()
    assert body["checkout_url"].startswith(stripe_sim.base_url)
    assert (body["credits"], body["amount"], body["status"]) == (2000, 7000, "pending")


@pytest.mark.parametrize("data", [{}, {"pack_id": "x"}, {"pack_id": 424242}])
def test_the_api_checkout_refuses_a_bad_pack_with_the_error_shape(stripe_sim, logged_in, data):
    response = logged_in.post("/api/v1/credits/checkout/", data)

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "unknown_pack", "validation_error"}
    assert not Order.objects.exists()
