"""The same paid plan invoice announced by several events at the same moment (Stripe's retries
and repeats, each with its own event id): one grant."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from django.test import Client

from credits.models import PlanInvoice, Subscription
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
