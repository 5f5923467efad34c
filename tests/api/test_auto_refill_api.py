"""GET and PUT /api/v1/credits/auto-refill/, and the hostile inputs of the same settings in the
API and Billing: bogus packs, thresholds out of range, another user's settings, floods."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from credits.models import AutoRefill, CreditPack, Order
from tests.credits.refill_support import off_session_charges, save_card
from tests.credits.stripe_support import pack
from tests.factories import api_client
from wan_pwa.accounts.api_keys import create_api_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/credits/auto-refill/"


def choice(**changes: object) -> dict[str, object]:
    return {"enabled": True, "threshold": 50, "pack_id": pack(100).pk, "monthly_max": 3} | changes


def error_of(response) -> dict:
    return response.json()["error"]


def test_the_settings_start_off_and_read_back_what_was_saved(stripe_sim, api, logged_in, user):
    assert api.get(URL).json() == {
        "enabled": False,
        "threshold": 20,
        "pack_id": None,
        "monthly_max": 3,
        "card": None,
        "refills_this_month": 0,
        "stopped_reason": "",
    }
    save_card(stripe_sim, logged_in, user)

    response = api.put(URL, choice(threshold=30, monthly_max=5), format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "enabled": True,
        "threshold": 30,
        "pack_id": pack(100).pk,
        "monthly_max": 5,
        "card": "Visa ending 4242",
        "refills_this_month": 0,
        "stopped_reason": "",
    }
    assert api.get(URL).json()["threshold"] == 30


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"threshold": 0}, "threshold"),
        ({"threshold": 100_001}, "threshold"),
        ({"threshold": "lots"}, "threshold"),
        ({"monthly_max": 0}, "monthly_max"),
        ({"monthly_max": 21}, "monthly_max"),
        ({"pack_id": -1}, "pack_id"),
    ],
)
def test_values_out_of_range_are_refused_with_a_400(api, changes, field):
    response = api.put(URL, choice(**changes), format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert not AutoRefill.objects.exists()


def test_a_pack_that_is_not_on_sale_is_refused(stripe_sim, api):
    hidden = CreditPack.objects.create(
        name="Old", credits=10, price=100, currency="usd", active=False
    )
    for pack_id in (hidden.pk, 999_999, 2**31 - 1):
        response = api.put(URL, choice(pack_id=pack_id, enabled=False), format="json")
        assert response.status_code == 400
        assert "credit packs on offer" in error_of(response)["message"]


def test_turning_it_on_without_a_saved_card_is_refused(stripe_sim, api):
    response = api.put(URL, choice(), format="json")
    assert response.status_code == 400
    assert "Save a card first" in error_of(response)["message"]
    assert not AutoRefill.objects.filter(enabled=True).exists()


def test_each_user_reaches_only_their_own_settings(stripe_sim, api, logged_in, user, other_user):
    save_card(stripe_sim, logged_in, user)
    api.put(URL, choice(threshold=77), format="json")
    other = api_client(key=create_api_key(other_user, "other")[1])

    assert other.get(URL).json()["card"] is None
    assert other.get(URL).json()["threshold"] == 20
    # Their save turns on nothing of alice's, and cannot use alice's card.
    assert other.put(URL, choice(threshold=5), format="json").status_code == 400
    assert AutoRefill.objects.get(user=user).threshold == 77
    assert APIClient().get(URL).status_code == 401


def test_a_key_without_the_billing_scope_is_refused(user):
    reader = api_client(key=create_api_key(user, "reader", scopes=["credits:read"])[1])
    for response in (reader.get(URL), reader.put(URL, choice(), format="json")):
        assert response.status_code == 403
        assert error_of(response)["required_scope"] == "billing"
    assert not AutoRefill.objects.exists()


def test_a_flood_of_saves_changes_one_row_and_charges_nothing(stripe_sim, api, logged_in, user):
    save_card(stripe_sim, logged_in, user)
    for number in range(40):
        assert api.put(URL, choice(threshold=10 + number), format="json").status_code == 200
    for number in range(10):
        logged_in.post(
            "/settings/billing/auto-refill/",
            {"enabled": "on", "threshold": 60 + number, "pack": pack().pk, "monthly_max": 2},
        )

    assert AutoRefill.objects.filter(user=user).count() == 1
    assert AutoRefill.objects.get(user=user).threshold == 69
    assert not Order.objects.filter(refill_key__isnull=False).exists()
    assert off_session_charges(stripe_sim) == []


def test_billing_refuses_bad_values_with_the_form_and_a_400(stripe_sim, logged_in, user):
    for data in (
        {"threshold": "0", "pack": pack().pk, "monthly_max": 2},
        {"threshold": "10", "pack": "999999", "monthly_max": 2},
        {"threshold": "10", "pack": pack().pk, "monthly_max": "99"},
        {},
    ):
        response = logged_in.post("/settings/billing/auto-refill/", data)
        assert response.status_code == 400
    assert not AutoRefill.objects.exists()


def test_a_flood_of_save_a_card_clicks_opens_one_setup_session(stripe_sim, logged_in, client):
    locations = {
        logged_in.post("/settings/billing/auto-refill/card/")["Location"] for _ in range(8)
    }

    assert len(locations) == 1
    with stripe_sim.state.lock:
        sessions = [o for o in stripe_sim.state.objects.values() if o.get("mode") == "setup"]
    assert len(sessions) == 1
    client.logout()
    anonymous = client.post("/settings/billing/auto-refill/card/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
