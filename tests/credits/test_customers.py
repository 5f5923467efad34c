"""One Stripe Customer per user: made on first need through the simulator, reused after, and
one only when several first needs arrive at once."""

from __future__ import annotations

import pytest
import stripe
from pytest_django import Settings

from credits.customers import ensure_stripe_customer
from credits.models import StripeCustomer
from credits.simulator import StripeSimulator
from credits.stripe_gateway import PaymentsUnavailable
from tests.concurrency.threads import race
from tests.factories import make_user

pytestmark = pytest.mark.postgres


def customers_at(sim: StripeSimulator) -> list[dict]:
    return [obj for obj in sim.state.objects.values() if obj["object"] == "customer"]


@pytest.mark.django_db
def test_a_user_gets_one_customer_with_their_address_and_keeps_it(stripe_sim):
    user = make_user(email="cust@example.com")
    first = ensure_stripe_customer(user)
    assert first.startswith("cus_")
    assert ensure_stripe_customer(user) == first
    [customer] = customers_at(stripe_sim)
    assert customer["email"] == "cust@example.com"
    assert customer["metadata"] == {"user_id": str(user.pk)}
    assert StripeCustomer.objects.get(user=user).stripe_customer_id == first
    assert [e["type"] for e in stripe_sim.take_events()] == ["customer.created"]


@pytest.mark.django_db
def test_two_users_get_two_customers(stripe_sim):
    assert ensure_stripe_customer(make_user()) != ensure_stripe_customer(make_user())
    assert len(customers_at(stripe_sim)) == 2


@pytest.mark.django_db
def test_without_stripe_keys_no_customer_is_recorded(settings: Settings):
    settings.STRIPE_SECRET_KEY = ""
    user = make_user()
    with pytest.raises(PaymentsUnavailable):
        ensure_stripe_customer(user)
    assert not StripeCustomer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_calls_make_one_customer(stripe_sim):
    user = make_user()
    results = race([lambda: ensure_stripe_customer(user)] * 6)
    assert len(set(results)) == 1 and str(results[0]).startswith("cus_"), results
    assert len(customers_at(stripe_sim)) == 1
    assert StripeCustomer.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_the_simulator_serves_customers_to_the_official_client(stripe_sim):
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_sim.base_url})
    made = client.v1.customers.create(params={"email": "a@example.com", "metadata": {"k": "v"}})
    fetched = client.v1.customers.retrieve(made.id)
    assert (fetched.id, fetched.email, fetched.to_dict()["metadata"]) == (
        made.id,
        "a@example.com",
        {"k": "v"},
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve("cus_missing")
