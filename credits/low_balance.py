"""The low-balance alert: one e-mail and one push (as the user's notification settings say) when
their balance falls below their threshold, and not again until it has been back at or above it.
The same falling balance is what starts an auto-refill (credits/auto_refill.py).

`balance_decreased` is called by every action that lowers a balance, under the balance-row lock
and in its transaction: the flag on that row and the enqueued message commit with the decrease
or not at all, and the lock makes concurrent decreases see one crossing between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django_tasks import task

from credits import auto_refill
from credits.models import MAX_THRESHOLD, CreditBalance
from credits.selectors import locked_balance
from wan_pwa.accounts.models import User
from wan_pwa.errors import DomainError
from wan_pwa.outgoing_webhooks.events import record_event
from wan_pwa.outgoing_webhooks.models import EventType

logger = logging.getLogger(__name__)

# After every generation task, as the generations' own notifications: never delays a video.
ALERT_PRIORITY = -20


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    url: str  # absolute


@dataclass
class Plugged:
    """What the app above credits hands in from its ready() (credits import no app above
    them): the catalog's cheapest generation, the default threshold as for the low-credit
    warning, and the Web Push sender to the user's subscribed devices."""

    cheapest_cost: int = 1
    push: Callable[[User, Notice], None] | None = None


PLUGGED = Plugged()


class ThresholdOutOfRange(DomainError):
    code = "threshold_out_of_range"

    def __init__(self) -> None:
        super().__init__(f"The threshold must be a whole number from 1 to {MAX_THRESHOLD:,}.")


def threshold_of(balance: CreditBalance) -> int:
    return balance.low_balance_threshold or PLUGGED.cheapest_cost


def balance_decreased(balance: CreditBalance, *, before: int) -> None:
    """The balance row (locked, its new balance set) went down from `before`: tells the user
    once if it crossed their threshold, and lets auto-refill buy a pack."""
    _alert_on_crossing(balance, before)
    auto_refill.refill_if_due(balance, before=before)


def _alert_on_crossing(balance: CreditBalance, before: int) -> None:
    threshold = threshold_of(balance)
    # Back at or above the threshold since the last alert: the next crossing is news again.
    alerted = balance.low_balance_alerted and before < threshold
    if balance.balance < threshold and not alerted:
        alerted = True
        data = {"balance": balance.balance, "threshold": threshold}
        send_low_balance_alert.enqueue(balance.user_id, data)
        record_event(balance.user_id, EventType.CREDITS_LOW, data)  # the API users' webhooks
    if alerted != balance.low_balance_alerted:
        balance.low_balance_alerted = alerted
        balance.save(update_fields=["low_balance_alerted", "updated_at"])


def set_threshold(user: User, threshold: int | None) -> CreditBalance:
    """The user's alert threshold (None: the cheapest generation). The balance as it is now is
    taken as known: setting a threshold above it sends nothing until the next crossing."""
    if threshold is not None and not (
        isinstance(threshold, int) and 1 <= threshold <= MAX_THRESHOLD
    ):
        raise ThresholdOutOfRange()
    with transaction.atomic():
        balance = locked_balance(user)
        balance.low_balance_threshold = threshold
        balance.low_balance_alerted = balance.balance < threshold_of(balance)
        balance.save(update_fields=["low_balance_threshold", "low_balance_alerted", "updated_at"])
    return balance


def notice(balance: int, threshold: int) -> Notice:
    url = settings.SITE_URL + reverse("billing")
    return Notice(
        title="Your credits are running low",
        body=(
            f"You have {balance} credits left, below the {threshold} you asked to be told "
            "about. Buy credits in Billing, or turn on auto-refill there."
        ),
        url=url,
    )


@task(priority=ALERT_PRIORITY)
def send_low_balance_alert(user_id: int, data: dict[str, int]) -> None:
    """Tells the user on the channels they chose in Settings > Notifications (enqueued once
    per crossing, by the transaction that crossed)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or user.is_suspended:
        return
    message = notice(data["balance"], data["threshold"])
    if user.notify_by_email and user.email:
        try:
            send_mail(message.title, f"{message.body}\n\n{message.url}", None, [user.email])
        except Exception:  # a mail failure must not fail the push, nor retry the alert
            logger.exception("Could not e-mail user %s about their low balance", user_id)
    if user.notify_by_push and PLUGGED.push is not None:
        PLUGGED.push(user, message)
