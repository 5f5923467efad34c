"""The transitions that leave work to do, with that work enqueued in their transaction: a
prediction update (from a webhook, a create answer or a watchdog poll), a failure we decide, and
a cancel. Webhooks, pages, the API, the admin and the other lifecycle modules call these rather
than the actions of the same names."""

from __future__ import annotations

from django.db import transaction

from generations.actions import transitions as actions
from generations.actions.errors import CannotCancel
from generations.actions.transitions import UpdateOutcome
from generations.failures import FailureReason
from generations.lifecycle import followups
from generations.lifecycle.output import copy_output
from generations.models import IN_FLIGHT_STATUSES, Generation
from generations.replicate.predictions import PredictionUpdate
from wan_pwa.accounts.models import User


def apply_prediction_update(generation_id: int, update: PredictionUpdate) -> UpdateOutcome:
    """What Replicate says about the generation's prediction, applied (see the action). News of
    a running prediction first tries the one-statement path, which leaves nothing to do."""
    if actions.move_forward(generation_id, update):
        return UpdateOutcome.APPLIED
    # No savepoint inside a webhook's transaction (the hot path): this raises no refusal for a
    # caller to catch, so any error rolls the caller's transaction back whole anyway.
    with transaction.atomic(savepoint=False):
        applied = actions.apply_prediction_update(generation_id, update)
        followups.enqueue(applied.follow_ups)
        if applied.follow_ups.copy_output:
            copy_output.enqueue(generation_id)
    return applied.outcome


def mark_failed(
    generation_id: int,
    reason: FailureReason,
    detail: str = "",
    *,
    cancel_at_replicate: bool = False,
) -> Generation:
    """Fails and refunds the generation unless it already ended (see the action)."""
    return followups.run(
        actions.mark_failed, generation_id, reason, detail, cancel_at_replicate=cancel_at_replicate
    ).generation


def cancel_generation(
    generation: Generation, *, reason: FailureReason = FailureReason.CANCELED_BY_USER
) -> Generation:
    """Cancels and refunds the generation, and stops its prediction at Replicate. CannotCancel
    when it cannot be canceled any more."""
    followups.run(actions.check_cancel_generation, generation, reason=reason)
    generation.refresh_from_db()
    return generation


def cancel_all_in_flight(user: User, *, reason: FailureReason) -> int:
    """Cancels and refunds each generation the user has in flight, each in its own transaction
    in the usual lock order (generation, then balance); returns how many. For a closed account
    (suspended or deleted) whose flag has committed: nothing new starts meanwhile."""
    canceled = 0
    in_flight = Generation.objects.filter(user=user, status__in=IN_FLIGHT_STATUSES)
    for generation in in_flight.order_by("pk"):
        try:
            cancel_generation(generation, reason=reason)
        except CannotCancel:
            continue  # it ended meanwhile, or its finished video is being saved
        canceled += 1
    return canceled
