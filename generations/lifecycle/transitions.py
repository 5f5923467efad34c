"""The transitions that leave work to do, with that work enqueued in their transaction: a
prediction update (from a webhook, a create answer or a watchdog poll), a failure we decide, and
a cancel. Webhooks, pages, the API, the admin and the other lifecycle modules call these rather
than the actions of the same names."""

from __future__ import annotations

from django.db import transaction

from generations.actions import transitions as actions
from generations.actions.transitions import UpdateOutcome
from generations.failures import FailureReason
from generations.lifecycle import followups
from generations.lifecycle.output import copy_output
from generations.models import Generation
from generations.replicate.predictions import PredictionUpdate


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
