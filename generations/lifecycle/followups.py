"""Running an action with the work it leaves to do (its FollowUps) enqueued in its transaction:
the user's next message, the webhooks to API users and the cancel of a prediction at Replicate.
The copy of a video, asked for only by a prediction update, is enqueued by
generations.lifecycle.transitions, which sits above the copy."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from django.db import transaction

from generations.actions.transitions import FollowUps
from generations.lifecycle.cancellation import cancel_prediction
from generations.notifications.delivery import notify_later
from wan_pwa.outgoing_webhooks import events as webhook_events


class Transition(Protocol):
    @property
    def follow_ups(self) -> FollowUps: ...


P = ParamSpec("P")
T = TypeVar("T", bound=Transition)


def run(action: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """The action's result, its follow-ups enqueued in the same transaction (so a crash keeps
    both or neither)."""
    with transaction.atomic():
        result = action(*args, **kwargs)
        enqueue(result.follow_ups)
    return result


def enqueue(follow_ups: FollowUps) -> None:
    """Call inside the transaction of the action that returned `follow_ups`."""
    if follow_ups.notify_user_id is not None:
        notify_later(follow_ups.notify_user_id)
    webhook_events.send(follow_ups.webhook_event_ids)
    if follow_ups.cancel_prediction_id:
        cancel_prediction.enqueue(follow_ups.cancel_prediction_id)
