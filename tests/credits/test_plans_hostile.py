"""Plans against misuse: bogus and retired plans, other users' subscriptions and events, floods
of subscribe requests, and the API's plans and subscribe endpoints."""

from __future__ import annotations

import pytest
from django.test import Client

from credits.models import PlanCheckout, Subscription
from credits.simulator import StripeSimulator
from tests.credits.plan_support import (
    deliver_shuffled_twice,
    open_portal,
    plan,
    subscribe,
)
from tests.credits.stripe_support import deliver
from tests.factories import api_client
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import Scope

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def open_sessions(sim: StripeSimulator) -> list[dict]:
    return [
        obj
        for obj in sim.state.objects.values()
        if obj["object"] == "checkout.session" and obj["status"] == "open"
    ]


def test_the_api_lists_the_active_plans(stripe_sim, user):
    plan("Studio").__class__.objects.filter(name="Studio").update(active=False)
    response = api_client(user=user).get("/api/v1/credits/plans/")
    assert response.status_code == 200
    assert [(p["name"], p["credits"], p["price"]) for p in response.json()] == [
        ("Starter", 200, 800),
        ("Pro", 800, 2500),
    ]
    assert api_client().get("/api/v1/credits/plans/").status_code in {401, 403}


def test_the_api_subscribes_with_a_checkout_url_and_the_same_one_twice(stripe_sim, user):
    client = api_client(user=user)
    first = client.post("/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["url"].startswith(f"{stripe_sim.base_url}/checkout/cs_")
    assert first.json()["to_portal"] is False
    again = client.post("/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json")
    assert again.json()["url"] == first.json()["url"]


@pytest.mark.parametrize("plan_id", ["abc", -1, 0, 2**40, 999_999, None])
def test_subscribing_to_a_bogus_plan_is_a_400(stripe_sim, user, plan_id):
    response = api_client(user=user).post(
        "/api/v1/credits/subscribe/", {"plan_id": plan_id}, format="json"
    )
    assert response.status_code == 400, response.content
    assert not open_sessions(stripe_sim)


def test_a_retired_plan_cannot_be_subscribed_to(stripe_sim, user, logged_in: Client):
    retired = plan("Studio")
    retired.active = False
    retired.save()
    response = logged_in.post("/settings/billing/subscribe/", {"plan": retired.pk})
    assert response.status_code == 400
    assert "Pick one of the plans on offer." in response.content.decode()
    assert logged_in.post("/settings/billing/subscribe/", {"plan": "x' OR 1=1"}).status_code == 400


def test_a_flood_of_subscribe_requests_leaves_one_open_checkout(stripe_sim, user):
    client = api_client(user=user)
    for n in range(12):
        name = ["Starter", "Pro", "Studio"][n % 3]
        response = client.post(
            "/api/v1/credits/subscribe/", {"plan_id": plan(name).pk}, format="json"
        )
        assert response.status_code == 200
    assert len(open_sessions(stripe_sim)) == 1
    assert PlanCheckout.objects.filter(user=user).count() == 1


def test_subscribing_while_subscribed_sends_to_the_portal(stripe_sim, user, logged_in):
    subscribe(stripe_sim, logged_in)
    deliver_shuffled_twice(stripe_sim)
    response = logged_in.post("/settings/billing/subscribe/", {"plan": plan("Pro").pk})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{stripe_sim.base_url}/portal/bps_")
    api = api_client(user=user).post(
        "/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json"
    )
    assert api.json()["to_portal"] is True
    assert Subscription.objects.filter(user=user).count() == 1


def test_another_user_reaches_neither_the_plan_nor_its_portal(
    stripe_sim, user, other_user, logged_in
):
    subscribe(stripe_sim, logged_in)
    deliver_shuffled_twice(stripe_sim)
    portal = open_portal(stripe_sim, logged_in)
    mallory = Client()
    mallory.force_login(other_user)
    page = mallory.get("/settings/billing/").content.decode()
    assert "Your plan:" not in page
    response = mallory.post("/settings/billing/plan/")
    assert response.status_code == 400
    assert "no plan to manage" in response.content.decode()
    # The portal session names the subscriber's customer only.
    portal_id = portal.rsplit("/", 1)[1]
    subscriber_customer = stripe_sim.state.objects[portal_id]["customer"]
    assert subscriber_customer == Subscription.objects.get(user=user).stripe_customer_id


def test_events_of_a_customer_we_never_made_change_nothing(stripe_sim, user, logged_in):
    subscribe(stripe_sim, logged_in)
    events = stripe_sim.take_events()
    for event in events:
        obj = event["data"]["object"]
        if obj.get("customer"):
            obj["customer"] = "cus_someone_else"
    outcomes = [deliver(event).json()["outcome"] for event in events]
    assert "unknown_customer" in outcomes and "granted" not in outcomes
    assert not Subscription.objects.exists()


def test_a_malformed_invoice_event_is_refused(stripe_sim, user, logged_in):
    subscribe(stripe_sim, logged_in)
    [paid] = stripe_sim.take_events("invoice.paid")
    paid["data"]["object"]["lines"] = {"data": [{"amount": "lots"}]}
    response = deliver(paid)
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_subscribing_with_an_api_key_needs_the_billing_scope(stripe_sim, user):
    read_only = api_client(key=create_api_key(user, "reader", scopes=[Scope.CREDITS_READ])[1])
    assert read_only.get("/api/v1/credits/plans/").status_code == 200
    refused = read_only.post(
        "/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["required_scope"] == Scope.BILLING
    assert not open_sessions(stripe_sim)
    billing = api_client(key=create_api_key(user, "billing", scopes=[Scope.BILLING])[1])
    allowed = billing.post("/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json")
    assert allowed.status_code == 200, allowed.content


def test_subscribing_again_before_the_paid_plan_arrives_opens_no_second_checkout(
    stripe_sim, user, logged_in
):
    subscribe(stripe_sim, logged_in)  # paid; its events not delivered yet
    response = logged_in.post("/settings/billing/subscribe/", {"plan": plan("Pro").pk})
    assert response.status_code == 409
    assert "appears in Billing in a moment" in response.content.decode()
    assert not open_sessions(stripe_sim)
