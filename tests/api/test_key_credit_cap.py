"""An API key's optional monthly credit cap: submissions through the key that would pass it get
402 `key_credit_cap_reached` and nothing is charged; refunded generations, other keys, the
pages and last month do not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.api.payloads import T2V
from tests.factories import api_client, make_generation
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import ApiKey, User

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"  # t2v-1.3B at 480p: 5 credits


def capped_key(user: User, cap: int) -> tuple[ApiKey, str]:
    return create_api_key(user, "capped", monthly_credit_cap=cap)


def test_submissions_stop_at_the_cap_and_charge_nothing(user, limits, assert_audit_clean):
    api_key, raw_key = capped_key(user, 12)
    client = api_client(key=raw_key)
    assert [client.post(URL, T2V, format="json").status_code for _ in range(2)] == [201, 201]
    assert balance_of(user) == 90

    refused = client.post(URL, T2V, format="json")

    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "key_credit_cap_reached"
    assert (error["monthly_credit_cap"], error["spent_this_month"], error["needed"]) == (12, 10, 5)
    assert error["doc_url"].endswith("#key_credit_cap_reached")
    assert balance_of(user) == 90
    assert Generation.objects.filter(api_key=api_key).count() == 2
    assert_audit_clean()


def test_the_cap_counts_only_this_keys_charges_of_this_month(user, limits):
    api_key, raw_key = capped_key(user, 10)
    other_key = create_api_key(user, "uncapped")[1]
    # Spent elsewhere: the pages, another key, a refunded failure, last month.
    make_generation(user, status=Status.SUCCEEDED)
    api_client(key=other_key).post(URL, T2V, format="json")
    make_generation(user, status=Status.FAILED, api_key=api_key)
    last_month = make_generation(user, status=Status.SUCCEEDED, api_key=api_key)
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    Generation.objects.filter(pk=last_month.pk).update(
        created_at=month_start - timedelta(seconds=1)
    )
    client = api_client(key=raw_key)

    assert client.post(URL, T2V, format="json").status_code == 201
    assert client.post(URL, T2V, format="json").status_code == 201
    assert client.post(URL, T2V, format="json").status_code == 402


def test_a_retry_through_the_key_counts_against_its_cap(user, limits):
    api_key, raw_key = capped_key(user, 5)
    client = api_client(key=raw_key)
    canceled = make_generation(user, status=Status.CANCELED, model_key="t2v-1.3B", api_key=api_key)
    # Canceled (refunded), so a retry fits; a second retry would pass the cap.
    assert client.post(f"{URL}{canceled.pk}/retry/").status_code == 201
    refused = client.post(f"{URL}{canceled.pk}/retry/")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "key_credit_cap_reached"


def test_an_idempotent_replay_at_the_cap_returns_the_first_generation(user):
    _, raw_key = capped_key(user, 5)
    client = api_client(key=raw_key)
    first = client.post(URL, T2V, format="json", HTTP_IDEMPOTENCY_KEY="once")
    replay = client.post(URL, T2V, format="json", HTTP_IDEMPOTENCY_KEY="once")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]
    assert balance_of(user) == 95


def test_a_key_deleted_with_its_account_data_leaves_the_generation(user):
    api_key, raw_key = capped_key(user, 50)
    generation_id = api_client(key=raw_key).post(URL, T2V, format="json").json()["id"]
    api_key.delete()
    assert Generation.objects.get(pk=generation_id).api_key is None
