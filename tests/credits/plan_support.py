"""Plans through the Stripe simulator over HTTP: subscribe in Billing, pay on the simulator's
checkout page, act in its portal, advance a subscription's clock, and deliver the signed
events shuffled and twice."""

from __future__ import annotations

import random
import re

import httpx
from django.test import Client

from credits.models import Plan
from credits.simulator import StripeSimulator
from tests.credits.stripe_support import PAID, deliver

PLANS = {"Starter": (200, 800), "Pro": (800, 2500), "Studio": (3000, 8000)}


def plan(name: str = "Starter") -> Plan:
    """One of the default plans (made again when a transactional test flushed them)."""
    credits, price = PLANS[name]
    found, _ = Plan.objects.get_or_create(
        name=name, currency="usd", defaults={"credits": credits, "price": price}
    )
    return found


def deliver_shuffled_twice(sim: StripeSimulator, seed: int = 0) -> list[str]:
    """Delivers the waiting events in a random order, then all of them again in another, as
    new events (other ids) so that the second round reaches the actions, not the dedupe."""
    events = sim.take_events()
    shuffler = random.Random(seed)
    first = events[:]
    second = [event | {"id": f"{event['id']}_again"} for event in events]
    shuffler.shuffle(first)
    shuffler.shuffle(second)
    outcomes, client = [], Client()
    for event in first + second:
        response = deliver(event, client)
        assert response.status_code == 200, response.content
        outcomes.append(response.json()["outcome"])
    return outcomes


def subscribe(sim: StripeSimulator, client: Client, name: str = "Starter", card: str = PAID):
    """Subscribes the client's user in Billing and pays on the simulator's page; returns the
    page's answer (a 303 to Billing when paid)."""
    response = client.post("/settings/billing/subscribe/", {"plan": plan(name).pk})
    assert response.status_code == 302, response.content
    url = response["Location"]
    assert url.startswith(f"{sim.base_url}/checkout/cs_"), url
    assert "4242" in httpx.get(url).text
    return httpx.post(url, data={"card": card, "email": ""})


def open_portal(sim: StripeSimulator, client: Client) -> str:
    """Billing's Manage plan button: the portal page's URL."""
    response = client.post("/settings/billing/plan/")
    assert response.status_code == 302, response.content
    url = response["Location"]
    assert url.startswith(f"{sim.base_url}/portal/bps_"), url
    return url


def in_portal(portal: str, action: str, **form: str) -> httpx.Response:
    return httpx.post(f"{portal}/{action}", data=form, follow_redirects=True)


def advance(sim: StripeSimulator, subscription_id: str) -> httpx.Response:
    return httpx.post(f"{sim.base_url}/_sim/subscriptions/{subscription_id}/advance")


def price_option(page: str, name: str) -> str:
    match = re.search(r'<option value="(price_\w+)"[^>]*>' + re.escape(name), page)
    assert match, page
    return match.group(1)
