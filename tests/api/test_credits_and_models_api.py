"""The credit balance, the ledger and the model catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from credits.actions import add_credits
from generations import catalog
from tests.api.payloads import T2V
from tests.factories import set_credits

pytestmark = pytest.mark.django_db


def test_the_balance_and_its_low_flag(api, user):
    assert api.get("/api/v1/credits/").json() == {
        "balance": 100,
        "low": False,
        "cheapest_generation_cost": catalog.CHEAPEST_COST,
        "buckets": [{"credits": 100, "expires_at": None, "source": "bonus"}],
        "subscription": None,
    }
    set_credits(user, 3)
    assert api.get("/api/v1/credits/").json()["low"] is True


def test_the_balance_lists_your_buckets_in_spending_order(api, user, other_user):
    period_end = datetime(2077, 1, 5, tzinfo=UTC)
    add_credits(user, 1000, type="bonus", expires_at=period_end)
    add_credits(user, -100, description="spent")
    add_credits(other_user, 500, expires_at=period_end, description="not yours")

    body = api.get("/api/v1/credits/").json()

    assert body["balance"] == 1000
    assert body["buckets"] == [
        {"credits": 900, "expires_at": "2077-01-05T00:00:00Z", "source": "bonus"},
        {"credits": 100, "expires_at": None, "source": "bonus"},
    ]


def test_the_ledger_lists_your_changes_newest_first(api, user, other_user):
    generation_id = api.post("/api/v1/generations/", T2V, format="json").json()["id"]
    add_credits(other_user, 50, type="purchase", description="not yours")
    entries = api.get("/api/v1/credits/ledger/").json()["results"]
    assert [(e["type"], e["amount"], e["balance_after"]) for e in entries] == [
        ("deduction", -5, 95),
        ("bonus", 100, 100),
    ]
    assert entries[0]["generation"] == generation_id
    assert entries[1]["generation"] is None


def test_the_ledger_pages_with_a_cursor(api, user):
    for number in range(4):
        add_credits(user, 1, type="purchase", description=f"#{number}")
    page = api.get("/api/v1/credits/ledger/", {"page_size": 2}).json()
    assert [e["description"] for e in page["results"]] == ["#3", "#2"]
    rest = api.get(page["next"]).json()
    assert [e["description"] for e in rest["results"]] == ["#1", "#0"]
    last = api.get(rest["next"]).json()
    assert [e["type"] for e in last["results"]] == ["bonus"] and last["next"] is None


def test_the_catalog_needs_no_authentication_and_matches_the_catalog_module():
    response = APIClient().get("/api/v1/models/")
    assert response.status_code == 200
    assert response.json() == catalog.as_dict()
    costs = {
        (m["key"], r["resolution"]): r["credits"] for m in response.json() for r in m["resolutions"]
    }
    assert costs[("t2v-1.3B", "480p")] == 5 and costs[("i2v-14B", "720p")] == 20
