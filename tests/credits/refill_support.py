"""Auto-refill through the Stripe simulator: saving a card on its setup page, running the
charging tasks, and reading what Stripe was asked to charge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from credits.models import AutoRefill
from credits.simulator import StripeSimulator
from tests.credits.stripe_support import PAID, deliver_all, pack
from tests.generations.lifecycle_helpers import task_worker
from wan_pwa.accounts.models import User

if TYPE_CHECKING:  # what the test client answers, named in django-stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

AUTH_ALWAYS = "4000 0027 6000 3184"  # needs its owner for every payment, off-session too
DECLINED_LATER = "4000 0000 0000 0341"  # saves, then every charge is declined
NEVER_SAVES = "4000 0000 0000 0002"


def save_card(
    sim: StripeSimulator, client: Client, user: User, card: str = PAID
) -> AutoRefill | None:
    """Billing's "Save a card", the card entered on the simulator's setup page, and the
    events delivered; the user's refill settings afterwards."""
    response = client.post("/settings/billing/auto-refill/card/")
    assert response.status_code == 302, response.content
    session_id = response["Location"].rsplit("/", 1)[1]
    sim.pay(session_id, card)
    deliver_all(sim)
    return AutoRefill.objects.filter(user=user).first()


def turn_on(
    client: Client, *, threshold: int = 50, credits: int = 100, monthly_max: int = 3
) -> TestResponse:
    return client.post(
        "/settings/billing/auto-refill/",
        {
            "enabled": "on",
            "threshold": threshold,
            "pack": pack(credits).pk,
            "monthly_max": monthly_max,
        },
    )


def run_named_tasks(*names: str) -> int:
    """Runs the due tasks of these names only (a test's submissions stay queued); how many."""
    worker = task_worker("tests", batch=True, interval=0)
    ran = 0
    while True:
        with transaction.atomic():
            paths = DBTaskResult.objects.ready().filter(
                task_path__regex=r"\.(" + "|".join(names) + r")$"
            )
            task_result = paths.get_locked()
            if task_result is None:
                break
            task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        ran += 1
    failed = list(DBTaskResult.objects.failed().values_list("task_path", "traceback"))
    assert not failed, failed
    return ran


def off_session_charges(sim: StripeSimulator) -> list[dict[str, Any]]:
    """The PaymentIntents made with a saved card (a Customer's), as Stripe holds them."""
    with sim.state.lock:
        return [
            sim.state.view(obj)
            for obj in sim.state.objects.values()
            if obj["object"] == "payment_intent" and obj.get("customer")
        ]
