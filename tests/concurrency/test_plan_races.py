"""Plans at the same moment: one paid invoice announced by several events (Stripe's retries
and repeats, each with its own event id) grants once; concurrent subscribe clicks open one
checkout."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from django.test import Client

from credits.models import PlanCheckout, PlanInvoice, Subscription
from tests.concurrency.threads import race
from tests.credits.plan_support import plan
from tests.credits.stripe_support import PAID, deliver
from tests.factories import api_client, make_user, set_credits

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcome_of(event: dict[str, Any]) -> str:
    return deliver(event, Client()).json()["outcome"]


def test_concurrent_deliveries_of_one_paid_invoice_grant_it_once(stripe_sim, assert_audit_clean):
    user = make_user()
    set_credits(user, 0)
    response = api_client(user=user).post(
        "/api/v1/credits/subscribe/", {"plan_id": plan("Pro").pk}, format="json"
    )
    stripe_sim.pay(response.json()["url"].rsplit("/", 1)[1], PAID)
    [paid] = stripe_sim.take_events("invoice.paid")
    copies = [paid | {"id": f"{paid['id']}_{n}"} for n in range(6)]
    outcomes = race([functools.partial(outcome_of, event) for event in copies])
    assert sorted(outcomes) == ["already_granted"] * 5 + ["granted"], outcomes
    assert PlanInvoice.objects.get().credits == 800
    assert Subscription.objects.get().user == user
    assert_audit_clean()


def test_concurrent_subscribe_clicks_open_one_checkout(stripe_sim):
    user = make_user()
    client = api_client(user=user)
    pro = plan("Pro")  # made before the race: the test's flush removed the migration's

    def click() -> str:
        response = client.post("/api/v1/credits/subscribe/", {"plan_id": pro.pk}, format="json")
        return response.json()["url"]

    urls = race([click] * 5)
    assert len(set(urls)) == 1 and str(urls[0]).startswith(stripe_sim.base_url), urls
    assert PlanCheckout.objects.filter(user=user).count() == 1
