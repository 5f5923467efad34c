"""A generation's life after it is created: the updates Replicate sends, its endings (failed,
canceled, succeeded with the video stored), and the refunds and cancels people ask for.

Every function locks the generation row first; a refund then locks the balance. None enqueues
anything: what is left to do (tell the user, send the webhooks written with the ending, stop a
prediction at Replicate, copy the video) is returned as FollowUps, which generations.lifecycle
enqueues in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from credits.actions import refund_generation_charge
from credits.models import CreditTransaction
from generations.actions.errors import CannotCancel, CannotRefund
from generations.failures import DETAIL_MAX_LENGTH, FailureReason
from generations.models import IN_FLIGHT_STATUSES, STATUS_RANK, Generation, Status
from generations.notifications.record import record_ending
from generations.replicate import predictions
from generations.replicate.predictions import PredictionUpdate, ReplicateStatus
from generations.webhook_events import record_ended


@dataclass
class FollowUps:
    """Work an action leaves to generations.lifecycle, enqueued in the action's transaction."""

    notify_user_id: int | None = None  # the user has news: a generation of theirs ended
    cancel_prediction_id: str = ""  # a prediction nobody will use: stop it at Replicate
    copy_output: bool = False  # Replicate has the video: copy it into our storage
    webhook_event_ids: list[int] = field(default_factory=list)  # to send to API users' endpoints


@dataclass(frozen=True)
class Ended:
    """A transition's result: the generation as it is now, and what is left to do."""

    generation: Generation
    follow_ups: FollowUps = field(default_factory=FollowUps)


class UpdateOutcome(models.TextChoices):
    """What applying a prediction update did (recorded on each webhook event)."""

    APPLIED = "applied", "Applied"
    UNCHANGED = "unchanged", "Nothing new"
    FINAL = "final", "Ignored: the generation had already ended"
    STRAY = "stray", "A prediction the generation does not use (canceled at Replicate)"
    MISMATCH = "mismatch", "Ignored: the prediction belongs to another generation"
    UNKNOWN_GENERATION = "unknown_generation", "Ignored: no such generation"


@dataclass(frozen=True)
class Applied:
    outcome: UpdateOutcome
    follow_ups: FollowUps = field(default_factory=FollowUps)


def lock_generation(generation_id: int) -> Generation:
    """The generation row, locked until the caller's transaction ends. The user comes along
    (refunds need it) without locking the user row."""
    return (
        Generation.objects.select_related("user")
        .select_for_update(of=("self",))
        .get(pk=generation_id)
    )


def _end_unsuccessfully(
    generation: Generation,
    status: Status,
    reason: FailureReason,
    detail: str,
    fields: set[str],
    follow_ups: FollowUps,
) -> None:
    """Failed or canceled, with the refund in the same transaction (given at most once)."""
    generation.status = status
    generation.failure_reason = reason
    generation.failure_detail = detail[:DETAIL_MAX_LENGTH]
    generation.completed_at = timezone.now()
    fields |= {"status", "failure_reason", "failure_detail", "completed_at", "updated_at"}
    generation.save(update_fields=sorted(fields))
    refund_generation_charge(generation, reason=generation.error_message)
    _record_ending(generation, follow_ups)


def _record_ending(generation: Generation, follow_ups: FollowUps) -> None:
    if record_ending(generation):  # a failure is told; the user's own cancel is not
        follow_ups.notify_user_id = generation.user_id
    follow_ups.webhook_event_ids += record_ended(generation)  # every ending, the cancel too


def check_cancel_generation(
    generation: Generation, *, reason: FailureReason = FailureReason.CANCELED_BY_USER
) -> Ended:
    """Stops the generation and refunds it; its prediction is to be canceled at Replicate.

    A queued one simply never gets submitted (a submission already on its way finds the
    generation canceled and cancels what it created). CannotCancel, with a sentence, when the
    generation cannot be canceled any more.
    """
    with transaction.atomic():
        locked = lock_generation(generation.pk)
        if not locked.can_cancel:
            raise CannotCancel(
                "This generation was deleted."
                if locked.deleted_at is not None
                else "This generation is already canceled."
                if locked.status == Status.CANCELED
                else "This generation has already finished."
            )
        if locked.replicate_status == ReplicateStatus.SUCCEEDED:
            raise CannotCancel("This generation has finished; its video is being saved.")
        return do_cancel_generation(locked, reason)


def do_cancel_generation(locked: Generation, reason: FailureReason) -> Ended:
    """Cancels and refunds the generation, whose row the caller locked and checked."""
    follow_ups = FollowUps(cancel_prediction_id=locked.prediction_id or "")
    _end_unsuccessfully(locked, Status.CANCELED, reason, "", set(), follow_ups)
    return Ended(locked, follow_ups)


def check_refund_generation(
    generation: Generation, *, reason: str = "", force: bool = False
) -> CreditTransaction | None:
    """An operator's refund: None when already refunded (or never charged).

    A generation still running must be canceled instead; a succeeded one is refunded only
    with `force`. CannotRefund with the reason otherwise.
    """
    with transaction.atomic():
        locked = lock_generation(generation.pk)
        if locked.is_in_flight:
            raise CannotRefund(
                f"Generation #{locked.pk} is still {locked.status}; cancel it instead."
            )
        if locked.status == Status.SUCCEEDED and not force:
            raise CannotRefund(f"Generation #{locked.pk} succeeded; refunding it needs --force.")
        return do_refund_generation(locked, reason)


def do_refund_generation(locked: Generation, reason: str) -> CreditTransaction | None:
    """Gives back the generation's charge (at most once), whose row the caller locked."""
    return refund_generation_charge(locked, reason=reason or "refunded by staff")


def begin_submit_attempt(generation_id: int) -> Generation | None:
    """Counts one attempt to create the generation's prediction, before the call is made.

    The count is what lets the watchdog tell "never tried" from "maybe created, id lost".
    None when there is nothing to submit any more (ended, or a prediction already exists).
    """
    with transaction.atomic():
        generation = lock_generation(generation_id)
        if generation.status != Status.QUEUED or generation.prediction_id:
            return None
        generation.submit_attempts += 1
        generation.save(update_fields=["submit_attempts", "updated_at"])
    return generation


def record_prediction_input(generation: Generation, model_input: dict[str, Any]) -> None:
    """Keeps the input about to be sent to Replicate, before the create call: the prediction
    it makes is recognized by it if the answer is lost (generations.lifecycle.recovery)."""
    generation.replicate_input = model_input
    Generation.objects.filter(pk=generation.pk).update(
        replicate_input=model_input, updated_at=timezone.now()
    )


def apply_prediction_update(generation_id: int, update: PredictionUpdate) -> Applied:
    """Brings the generation up to what Replicate says about its prediction, under its lock.

    Used for webhooks, create answers and watchdog polls alike (callers try move_forward first
    for news of a running prediction). Statuses only move forward and an ended generation never
    changes, so duplicates and late or reordered updates are harmless. A generation without a
    prediction id adopts this one (its creation may have crashed before the id was saved).
    Failed, aborted or canceled: refunded. Succeeded: the video is to be copied; our status
    becomes succeeded only once it is stored.
    """
    follow_ups = FollowUps()
    with transaction.atomic():
        try:
            generation = lock_generation(generation_id)
        except Generation.DoesNotExist:
            return Applied(UpdateOutcome.UNKNOWN_GENERATION)
        fields: set[str] = set()
        if generation.prediction_id != update.prediction_id:
            if Generation.objects.filter(prediction_id=update.prediction_id).exists():
                return Applied(UpdateOutcome.MISMATCH)
            if generation.prediction_id or generation.is_terminal:
                # A second prediction for one generation, or one for a generation given up
                # on: nobody will use it, so stop Replicate from running (and charging) it.
                if not update.is_terminal:
                    follow_ups.cancel_prediction_id = update.prediction_id
                return Applied(UpdateOutcome.STRAY, follow_ups)
            generation.prediction_id = update.prediction_id
            generation.submitted_at = timezone.now()
            fields |= {"prediction_id", "submitted_at"}
        if generation.is_terminal:
            return Applied(UpdateOutcome.FINAL)
        _apply(generation, update, fields, follow_ups)
    return Applied(UpdateOutcome.APPLIED if fields else UpdateOutcome.UNCHANGED, follow_ups)


def move_forward(generation_id: int, update: PredictionUpdate) -> bool:
    """A running prediction's news for the generation that owns it, in one conditional UPDATE
    (one statement, no lock held across round trips): the progress webhooks' path.

    Every column only moves forward, so a stale or repeated update matches no row. False when
    nothing changed, and when the full path (apply_prediction_update) must decide: an id to
    adopt, an ended generation. Never anything to follow up. Written in SQL because this is the
    hottest write of the app, and the ORM took longer to compile its CASE expressions (about
    1 ms) than the database took to run them.
    """
    if not update.is_running:
        return False
    target = update.status
    assert target is not None  # is_running
    earlier_statuses = [s for s in IN_FLIGHT_STATUSES if STATUS_RANK[s] < STATUS_RANK[target]]
    rank = predictions.replicate_rank(update.replicate_status)
    earlier_replicate = [s for s, r in predictions.REPLICATE_RANK.items() if r < rank]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sets = [
        f"status = CASE WHEN status IN ({_marks(earlier_statuses)}) THEN %s ELSE status END",
        "replicate_status = CASE WHEN replicate_status IN "
        f"({_marks(earlier_replicate)}) THEN %s ELSE replicate_status END",
        "updated_at = %s",
    ]
    set_params: list[Any] = [*earlier_statuses, target, *earlier_replicate]
    set_params += [update.replicate_status, now]
    news = f"status IN ({_marks(earlier_statuses)}) OR replicate_status IN "
    news += f"({_marks(earlier_replicate)})"
    news_params: list[Any] = [*earlier_statuses, *earlier_replicate]
    if update.progress is not None:
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        sets.append(f"progress = {greatest}(progress, %s)")
        set_params.append(update.progress)
        news += " OR progress < %s"
        news_params.append(update.progress)
    if target == Status.PROCESSING:
        sets.append("started_at = COALESCE(started_at, %s)")
        set_params.append(connection.ops.adapt_datetimefield_value(update.started_at) or now)
    table = connection.ops.quote_name(Generation._meta.db_table)
    sql = (
        f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608 (names are ours, values bound)
        f"WHERE id = %s AND prediction_id = %s AND status IN ({_marks(IN_FLIGHT_STATUSES)}) "
        f"AND ({news})"
    )
    params = [*set_params, generation_id, update.prediction_id, *IN_FLIGHT_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *news_params])
        return cursor.rowcount == 1


def _marks(values: Collection[str]) -> str:
    return ", ".join(["%s"] * len(values))


def _apply(
    generation: Generation, update: PredictionUpdate, fields: set[str], follow_ups: FollowUps
) -> None:
    if predictions.replicate_rank(update.replicate_status) > predictions.replicate_rank(
        generation.replicate_status
    ):
        generation.replicate_status = update.replicate_status
        fields.add("replicate_status")
    if update.progress is not None and update.progress > generation.progress:
        generation.progress = update.progress
        fields.add("progress")

    status = update.status
    if update.failure_reason is not None:
        ended = Status.CANCELED if status == Status.CANCELED else Status.FAILED
        _end_unsuccessfully(
            generation, ended, update.failure_reason, update.failure_detail, fields, follow_ups
        )
        return
    if status == Status.SUCCEEDED:
        if update.output_url != generation.output_url:
            generation.output_url = update.output_url
            fields.add("output_url")
            follow_ups.copy_output = True
        status = Status.PROCESSING  # until the video is in our storage
    if status is not None and STATUS_RANK[status] > STATUS_RANK[generation.status]:
        generation.status = status
        fields.add("status")
    if generation.status == Status.PROCESSING and generation.started_at is None:
        generation.started_at = update.started_at or timezone.now()
        fields.add("started_at")
    if fields:
        generation.save(update_fields=sorted(fields | {"updated_at"}))


@dataclass(frozen=True)
class Stored:
    stored: bool  # False: the generation ended meanwhile, or another copy got there first
    follow_ups: FollowUps = field(default_factory=FollowUps)


def store_output(generation_id: int, *, video_name: str, poster_name: str) -> Stored:
    """Marks the generation succeeded with its video and poster, now in our storage.

    Not stored (and the files are removed) when the generation ended meanwhile, e.g. canceled,
    or when another copy of the same video got there first.
    """
    follow_ups = FollowUps()
    with transaction.atomic():
        generation = lock_generation(generation_id)
        storage = Generation.video.field.storage
        if generation.is_terminal or generation.replicate_status != ReplicateStatus.SUCCEEDED:
            for name in (video_name, poster_name):
                transaction.on_commit(partial(storage.delete, name))
            return Stored(False)
        if generation.deleted_at is not None:  # erased with its account while being saved
            for name in (video_name, poster_name):
                transaction.on_commit(partial(storage.delete, name))
            video_name = poster_name = ""
        generation.video = video_name
        generation.poster = poster_name
        generation.status = Status.SUCCEEDED
        generation.progress = 100
        generation.completed_at = timezone.now()
        generation.started_at = generation.started_at or generation.completed_at
        generation.save(
            update_fields=[
                "video",
                "poster",
                "status",
                "progress",
                "completed_at",
                "started_at",
                "updated_at",
            ]
        )
        if generation.deleted_at is None:
            _record_ending(generation, follow_ups)
    return Stored(True, follow_ups)


def mark_failed(
    generation_id: int,
    reason: FailureReason,
    detail: str = "",
    *,
    cancel_at_replicate: bool = False,
) -> Ended:
    """Fails the generation for `reason` (`detail`: the technical words, for staff) and refunds
    it, unless it already ended.

    `cancel_at_replicate` also stops its prediction, for one we give up waiting for.
    """
    with transaction.atomic():
        generation = lock_generation(generation_id)
        if generation.is_terminal:
            return Ended(generation)
        follow_ups = FollowUps()
        if cancel_at_replicate:
            follow_ups.cancel_prediction_id = generation.prediction_id or ""
        _end_unsuccessfully(generation, Status.FAILED, reason, detail, set(), follow_ups)
    return Ended(generation, follow_ups)
