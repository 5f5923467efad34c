"""Suspending an account stops what it has running: the generations' side of a suspension."""

from __future__ import annotations

from dataclasses import dataclass

from generations.failures import FailureReason
from generations.lifecycle.transitions import cancel_all_in_flight
from wan_pwa.accounts.models import User
from wan_pwa.accounts.suspension import mark_suspended


@dataclass(frozen=True)
class SuspensionOutcome:
    newly_suspended: bool
    canceled: int  # in-flight generations canceled and refunded


def suspend_user(user: User, *, by: User, reason: str) -> SuspensionOutcome:
    """Suspends the account, then cancels and refunds each generation it has in flight.

    The flag commits first, on the user row alone; submissions re-read it under their lock, so
    nothing new starts after it, and the sweep then sees every generation that did. Each cancel
    is its own transaction in the usual lock order (generation, then balance). Running this again
    on a suspended account repeats only the sweep, which finishes one a crash interrupted.
    """
    newly_suspended = mark_suspended(user, by=by, reason=reason)
    canceled = cancel_all_in_flight(user, reason=FailureReason.ACCOUNT_SUSPENDED)
    return SuspensionOutcome(newly_suspended, canceled)
