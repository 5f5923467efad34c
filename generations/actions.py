"""Every write to a generation: one function per business operation.

Views, API views, admin actions, webhooks, tasks and commands call these; nothing else changes a
generation's status or a balance. Lock order, to stay deadlock-free: the generation row first,
then (inside credits.actions) the user's balance row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, Value
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from credits.actions import (
    CreditDebtOutstanding,
    InsufficientCredits,
    charge_generation,
    lock_balance_of_active_user,
    refund_generation_charge,
)
from credits.models import CreditBalance, CreditTransaction
from generations import catalog, controls, limits, tasks
from generations.audio import clean_audio
from generations.failures import DETAIL_MAX_LENGTH, FailureReason
from generations.images import clean_image
from generations.models import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IN_FLIGHT_STATUSES,
    STATUS_RANK,
    Generation,
    Kind,
    Status,
    new_share_token,
    requested_fields,
)
from generations.notifications.record import record_ending
from generations.replicate import predictions
from generations.replicate.predictions import PredictionUpdate, ReplicateStatus
from generations.uploads import CleanUpload
from wan_pwa.accounts.models import User
from wan_pwa.analytics.counters import count_event
from wan_pwa.errors import DomainError


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used for a different request.")


@dataclass(frozen=True)
class GenerationParams:
    """What a user asks for; validated by `clean()` into field errors a form or API can show."""

    model_key: str
    resolution: str
    aspect_ratio: str
    prompt: str
    negative_prompt: str = ""
    seed: int | None = None
    # Advanced settings by control name (generations.controls); clean() keeps the set ones.
    options: Mapping[str, Any] = field(default_factory=dict)
    image: File | None = None
    # Optional, for the models that take one (Wan 2.5).
    audio: File | None = None
    # Set by clean() once the files are decoded and written anew: their real formats' extensions.
    image_extension: str = ""
    audio_extension: str = ""

    def clean(self) -> GenerationParams:
        errors: dict[str, list[str]] = {}
        prompt = (self.prompt or "").strip()
        negative_prompt = (self.negative_prompt or "").strip()
        if not catalog.PROMPT_MIN_LENGTH <= len(prompt) <= catalog.PROMPT_MAX_LENGTH:
            errors["prompt"] = [
                f"The prompt must be {catalog.PROMPT_MIN_LENGTH} to {catalog.PROMPT_MAX_LENGTH} "
                f"characters long (it is {len(prompt)})."
            ]
        if len(negative_prompt) > catalog.NEGATIVE_PROMPT_MAX_LENGTH:
            errors["negative_prompt"] = [
                f"The negative prompt must be at most {catalog.NEGATIVE_PROMPT_MAX_LENGTH} "
                "characters long."
            ]
        if self.seed is not None and not 0 <= self.seed <= catalog.SEED_MAX:
            errors["seed"] = [f"The seed must be between 0 and {catalog.SEED_MAX}."]
        try:
            model = catalog.get_model(self.model_key)
            model.variant(self.resolution)
        except catalog.CatalogError as error:
            key = "model_key" if self.model_key not in catalog.MODELS else "resolution"
            errors[key] = [str(error)]
            model = None
        options: dict[str, controls.Value] = {}
        if model is not None:
            options, option_errors = controls.clean_options(
                model.controls, self.options, model.label
            )
            errors.update(option_errors)
            if negative_prompt and not model.takes_negative_prompt:
                errors["negative_prompt"] = [f"{model.label} takes no negative prompt."]
        if self.aspect_ratio not in catalog.ASPECT_RATIOS:
            errors["aspect_ratio"] = [
                f"The aspect ratio must be one of {', '.join(catalog.ASPECT_RATIOS)}."
            ]
        image: CleanUpload | None = None
        if model is not None and model.needs_image:
            if self.image is None:
                errors["image"] = ["Image-to-video needs an input image."]
            else:
                try:
                    image = _counted(clean_image, self.image, "image_upload")
                except ValidationError as error:
                    errors["image"] = error.messages
        elif model is not None and self.image is not None:
            errors["image"] = ["Text-to-video takes no input image; choose image-to-video."]
        audio: CleanUpload | None = None
        if model is not None and self.audio is not None:
            if not model.takes_audio:
                errors["audio"] = [
                    f"{model.label} takes no audio track; choose a "
                    f"{catalog.versions(m for m in catalog.MODELS.values() if m.takes_audio)} "
                    "model for one."
                ]
            else:
                try:
                    audio = _counted(clean_audio, self.audio, "audio_upload")
                except ValidationError as error:
                    errors["audio"] = error.messages
        if errors:
            raise ValidationError(errors)
        return replace(
            self,
            prompt=prompt,
            negative_prompt=negative_prompt,
            options=options,
            # From here on, the files are what we decoded and wrote anew (images.py, audio.py).
            image=image.file if image else None,
            image_extension=image.extension if image else "",
            audio=audio.file if audio else None,
            audio_extension=audio.extension if audio else "",
        )

    @property
    def cost(self) -> int:
        return catalog.cost_of(self.model_key, self.resolution, self.options)

    def close_files(self) -> None:
        for upload in (self.image, self.audio):
            if upload is not None:
                upload.close()


def _counted(clean: Callable[[File], CleanUpload], upload: File, event: str) -> CleanUpload:
    """The upload as its cleaner writes it anew, each outcome counted for the dashboard."""
    try:
        cleaned = clean(upload)
    except ValidationError as error:
        count_event(event, f"refused: {error.code}")
        raise
    count_event(event, "accepted")
    return cleaned


@dataclass(frozen=True)
class Submission:
    generation: Generation
    created: bool  # False: the replay of an earlier request with the same idempotency key


def check_submit_generation(
    user, params: GenerationParams, *, idempotency_key: str | None = None
) -> Submission:
    """The one way to start a generation (pages, API, commands, tests).

    Validates, then in one transaction: replays an idempotency key, applies every limit,
    charges, creates the generation as queued and enqueues its submission to Replicate. Raises
    ValidationError (field errors), IdempotencyKeyReused, InsufficientCredits or a
    LimitExceeded; nothing is created or charged then.
    """
    _check_idempotency_key(idempotency_key)
    return _check_and_submit(user, params.clean(), idempotency_key, retried_from=None)


def check_retry_generation(
    generation: Generation, *, idempotency_key: str | None = None
) -> Submission:
    """A new generation with the same parameters, linked by `retried_from` and charged again,
    under the same policy as check_submit_generation.

    Raises ValidationError unless the generation failed or was canceled.
    """
    if not generation.can_retry:
        raise ValidationError(
            "This generation was deleted, so it cannot be retried."
            if generation.deleted_at is not None
            else f"Its {generation.expired_input} has expired, so it cannot be retried."
            if generation.input_expired
            else generation.retry_refusal or "Only a failed or canceled generation can be retried."
        )
    _check_idempotency_key(idempotency_key)
    # The new generation gets its own copies of the input image and audio track.
    image, audio = generation.input_image, generation.input_audio
    params = replace(
        params_of(generation),
        image=reopened(image) if image else None,
        audio=reopened(audio) if audio else None,
    )
    try:
        return _check_and_submit(generation.user, params.clean(), idempotency_key, generation)
    finally:
        params.close_files()


def _check_idempotency_key(idempotency_key: str | None) -> None:
    if idempotency_key and len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ValidationError(
            {
                "idempotency_key": [
                    f"The idempotency key must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
                ]
            }
        )


def _check_and_submit(
    user,
    params: GenerationParams,
    idempotency_key: str | None,
    retried_from: Generation | None,
) -> Submission:
    model = catalog.get_model(params.model_key)
    generation = Generation(
        user=user,
        kind=Kind.IMAGE_TO_VIDEO if model.needs_image else Kind.TEXT_TO_VIDEO,
        **requested_fields(params),
        cost=params.cost,
        idempotency_key=idempotency_key or None,
        retried_from=retried_from,
    )
    try:
        with transaction.atomic():
            # The balance lock serializes this user's submissions: the replay lookup and the
            # per-user limits below cannot race with a concurrent request of theirs.
            balance = lock_balance_of_active_user(user)
            if idempotency_key and (replay := _replay(generation)):
                return Submission(replay, created=False)
            if balance.debt:  # a refunded or disputed purchase they had spent
                raise CreditDebtOutstanding(balance.debt)
            limits.check_user_limits(user)
            if balance.balance < generation.cost:
                raise InsufficientCredits(needed=generation.cost, available=balance.balance)
            with limits.daily_spend(user, generation.cost):
                if params.image is not None:
                    name = f"input{params.image_extension}"
                    generation.input_image.save(name, params.image, save=False)
                if params.audio is not None:
                    name = f"audio{params.audio_extension}"
                    generation.input_audio.save(name, params.audio, save=False)
                _do_submit_generation(generation, balance)
    except BaseException:
        for stored in input_files(generation):  # nothing was created: keep no uploaded copy
            stored.delete(save=False)
        raise
    return Submission(generation, created=True)


def _replay(generation: Generation) -> Generation | None:
    """The generation first made with this idempotency key; IdempotencyKeyReused when that
    request asked for something else."""
    first = Generation.objects.filter(
        user=generation.user, idempotency_key=generation.idempotency_key
    ).first()
    if first is None:
        return None
    if (
        requested_fields(first) != requested_fields(generation)
        or first.retried_from_id != generation.retried_from_id
    ):
        raise IdempotencyKeyReused()
    return first


def _do_submit_generation(generation: Generation, balance: CreditBalance) -> None:
    """Creates and charges the generation and enqueues its work; the caller holds the lock."""
    generation.save()
    charge_generation(generation, balance)
    tasks.submit_prediction.enqueue(generation.pk)
    # The watchdog runs whatever happens to the submission (a crash, lost webhooks).
    tasks.enqueue_later(tasks.watch_generation, settings.WATCHDOG_FIRST_DELAY, generation.pk, 1)


def params_of(generation: Generation) -> GenerationParams:
    """The parameters a generation was made with (for retry and remix)."""
    return GenerationParams(**requested_fields(generation))


def input_files(generation: Generation) -> list[FieldFile]:
    """The generation's stored input files: its image and audio track, those it has."""
    return [stored for stored in (generation.input_image, generation.input_audio) if stored]


def reopened(stored: FieldFile) -> File:
    """A stored input file opened as an upload, for a new generation (a retry, a remix) to get
    its own copy; GenerationParams.close_files closes it."""
    return File(stored.open("rb"), name=stored.name)


def set_starred(generation: Generation, starred: bool) -> Generation:
    generation.starred = starred
    generation.save(update_fields=["starred", "updated_at"])
    return generation


def enable_sharing(generation: Generation) -> Generation:
    if not generation.share_token:
        generation.share_token = new_share_token()
        generation.save(update_fields=["share_token", "updated_at"])
    return generation


def revoke_sharing(generation: Generation) -> Generation:
    """Ends the link; the video leaves the home page, and a new link asks for consent again."""
    fields = _unshared(generation)
    generation.feature_consent = False
    generation.save(update_fields=[*fields, "feature_consent", "updated_at"])
    return generation


def _unshared(generation: Generation) -> list[str]:
    """Clears the share link and, with it, any featuring (a database constraint requires it);
    returns the fields to save."""
    generation.share_token = None
    generation.featured_at = None
    return ["share_token", "featured_at"]


def set_feature_consent(generation: Generation, allowed: bool) -> Generation:
    """The owner's say on the home page's gallery; withdrawing it takes the video off at once."""
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if allowed and not locked.share_token:
            raise ValidationError("Share the video first: only shared videos can be featured.")
        locked.feature_consent = allowed
        if not allowed:
            locked.featured_at = None
        locked.save(update_fields=["feature_consent", "featured_at", "updated_at"])
    generation.refresh_from_db()
    return generation


def feature_generation(generation: Generation) -> Generation:
    """Staff put a video in the home page's gallery: only one its owner shared and allowed."""
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.featured_at is None:
            if locked.status != Status.SUCCEEDED or locked.deleted_at or not locked.video:
                raise ValidationError("Only a finished video can be featured.")
            if not locked.share_token:
                raise ValidationError("Its owner has not shared it.")
            if not locked.feature_consent:
                raise ValidationError("Its owner has not allowed featuring it.")
            locked.featured_at = timezone.now()
            locked.save(update_fields=["featured_at", "updated_at"])
    generation.refresh_from_db()
    return generation


def unfeature_generation(generation: Generation) -> Generation:
    generation.featured_at = None
    generation.save(update_fields=["featured_at", "updated_at"])
    return generation


def delete_generation(generation: Generation) -> None:
    """Hides the generation and removes its stored files once the change is committed.

    The row stays so the credit ledger keeps pointing at what was charged. An in-flight
    generation must be canceled first, so its refund cannot be lost.
    """
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.deleted_at is not None:
            return
        if not locked.can_delete:
            raise ValidationError("Cancel this generation before deleting it.")
        stored_files = ("video", "poster", "input_image", "input_audio")
        for name in stored_files:
            _delete_on_commit(getattr(locked, name))
            setattr(locked, name, "")
        locked.deleted_at = timezone.now()
        unshared = _unshared(locked)
        locked.starred = False
        locked.save(update_fields=["deleted_at", *unshared, "starred", *stored_files, "updated_at"])
    generation.refresh_from_db()


def erase_generation(generation_id: int) -> None:
    """Deletes the generation as delete_generation does, and blanks what its owner wrote (the
    account is being deleted): the row keeps only what the books need (model, cost, status,
    times). Idempotent. One whose finished video is still being saved is erased too; its
    video is discarded when it arrives (store_output)."""
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation_id)
        stored_files = ("video", "poster", "input_image", "input_audio")
        for name in stored_files:
            _delete_on_commit(getattr(locked, name))
            setattr(locked, name, "")
        locked.deleted_at = locked.deleted_at or timezone.now()
        locked.prompt = locked.negative_prompt = locked.failure_detail = locked.output_url = ""
        locked.options = {}
        locked.seed = locked.idempotency_key = None
        unshared = _unshared(locked)
        locked.starred = locked.feature_consent = False
        locked.save(
            update_fields=[
                *stored_files,
                "deleted_at",
                "prompt",
                "negative_prompt",
                "failure_detail",
                "output_url",
                "options",
                "seed",
                *unshared,
                "idempotency_key",
                "starred",
                "feature_consent",
                "updated_at",
            ]
        )


# --- The lifecycle: cancel, retry, refund, and the transitions webhooks, tasks and the
# watchdog apply. Every one locks the generation row first; refunds then lock the balance.


class UpdateOutcome(models.TextChoices):
    """What applying a prediction update did (recorded on each webhook event)."""

    APPLIED = "applied", "Applied"
    UNCHANGED = "unchanged", "Nothing new"
    FINAL = "final", "Ignored: the generation had already ended"
    STRAY = "stray", "A prediction the generation does not use (canceled at Replicate)"
    MISMATCH = "mismatch", "Ignored: the prediction belongs to another generation"
    UNKNOWN_GENERATION = "unknown_generation", "Ignored: no such generation"


def _locked(generation_id: int) -> Generation:
    # The user comes along (refunds need it) without locking the user row.
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
) -> None:
    """Failed or canceled, with the refund in the same transaction (given at most once)."""
    generation.status = status
    generation.failure_reason = reason
    generation.failure_detail = detail[:DETAIL_MAX_LENGTH]
    generation.completed_at = timezone.now()
    fields |= {"status", "failure_reason", "failure_detail", "completed_at", "updated_at"}
    generation.save(update_fields=sorted(fields))
    refund_generation_charge(generation, reason=generation.error_message)
    record_ending(generation)  # a failure is told; the user's own cancel is not


def cancel_generation(
    generation: Generation, *, reason: FailureReason = FailureReason.CANCELED_BY_USER
) -> Generation:
    """Stops the generation and refunds it; Replicate is told to cancel by a task.

    A queued one simply never gets submitted (a submission already on its way finds the
    generation canceled and cancels what it created). Raises ValidationError with a sentence
    when the generation cannot be canceled any more.
    """
    with transaction.atomic():
        locked = _locked(generation.pk)
        if not locked.can_cancel:
            raise ValidationError(
                "This generation was deleted."
                if locked.deleted_at is not None
                else "This generation is already canceled."
                if locked.status == Status.CANCELED
                else "This generation has already finished."
            )
        if locked.replicate_status == ReplicateStatus.SUCCEEDED:
            raise ValidationError("This generation has finished; its video is being saved.")
        _end_unsuccessfully(locked, Status.CANCELED, reason, "", set())
        if locked.prediction_id:
            tasks.cancel_prediction.enqueue(locked.prediction_id)
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
        except ValidationError:
            continue  # it ended meanwhile, or its finished video is being saved
        canceled += 1
    return canceled


def refund_generation(
    generation: Generation, *, reason: str = "", force: bool = False
) -> CreditTransaction | None:
    """An operator's refund: None when already refunded (or never charged).

    A generation still running must be canceled instead; a succeeded one is refunded only
    with `force`. Raises ValidationError with the reason otherwise.
    """
    with transaction.atomic():
        locked = _locked(generation.pk)
        if locked.is_in_flight:
            raise ValidationError(
                f"Generation #{locked.pk} is still {locked.status}; cancel it instead."
            )
        if locked.status == Status.SUCCEEDED and not force:
            raise ValidationError(f"Generation #{locked.pk} succeeded; refunding it needs --force.")
        return refund_generation_charge(locked, reason=reason or "refunded by staff")


def begin_submit_attempt(generation_id: int) -> Generation | None:
    """Counts one attempt to create the generation's prediction, before the call is made.

    The count is what lets the watchdog tell "never tried" from "maybe created, id lost".
    None when there is nothing to submit any more (ended, or a prediction already exists).
    """
    with transaction.atomic():
        generation = _locked(generation_id)
        if generation.status != Status.QUEUED or generation.prediction_id:
            return None
        generation.submit_attempts += 1
        generation.save(update_fields=["submit_attempts", "updated_at"])
    return generation


def apply_prediction_update(generation_id: int, update: PredictionUpdate) -> UpdateOutcome:
    """Brings the generation up to what Replicate says about its prediction.

    Used for webhooks, create answers and watchdog polls alike. Statuses only move forward and
    an ended generation never changes, so duplicates and late or reordered updates are
    harmless. A generation without a prediction id adopts this one (its creation may have
    crashed before the id was saved). Failed, aborted or canceled: refunded. Succeeded: the
    copy of the video is enqueued; our status becomes succeeded only once it is stored.
    """
    if update.is_running and _move_forward(generation_id, update):
        return UpdateOutcome.APPLIED
    with transaction.atomic():
        try:
            generation = _locked(generation_id)
        except Generation.DoesNotExist:
            return UpdateOutcome.UNKNOWN_GENERATION
        fields: set[str] = set()
        if generation.prediction_id != update.prediction_id:
            if Generation.objects.filter(prediction_id=update.prediction_id).exists():
                return UpdateOutcome.MISMATCH
            if generation.prediction_id or generation.is_terminal:
                # A second prediction for one generation, or one for a generation given up
                # on: nobody will use it, so stop Replicate from running (and charging) it.
                if not update.is_terminal:
                    tasks.cancel_prediction.enqueue(update.prediction_id)
                return UpdateOutcome.STRAY
            generation.prediction_id = update.prediction_id
            generation.submitted_at = timezone.now()
            fields |= {"prediction_id", "submitted_at"}
        if generation.is_terminal:
            return UpdateOutcome.FINAL
        _apply(generation, update, fields)
    return UpdateOutcome.APPLIED if fields else UpdateOutcome.UNCHANGED


def _move_forward(generation_id: int, update: PredictionUpdate) -> bool:
    """A running prediction's news for the generation that owns it, in one conditional UPDATE
    (one statement, no lock held across round trips): the progress webhooks' path.

    Every column only moves forward, so a stale or repeated update matches no row. False when
    nothing changed, and when the full path must decide (an id to adopt, an ended generation).
    Written in SQL because this is the hottest write of the app, and the ORM took longer to
    compile its CASE expressions (about 1 ms) than the database took to run them.
    """
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


def _apply(generation: Generation, update: PredictionUpdate, fields: set[str]) -> None:
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
        _end_unsuccessfully(generation, ended, update.failure_reason, update.failure_detail, fields)
        return
    if status == Status.SUCCEEDED:
        if update.output_url != generation.output_url:
            generation.output_url = update.output_url
            fields.add("output_url")
            tasks.copy_output.enqueue(generation.pk)
        status = Status.PROCESSING  # until the video is in our storage
    if status is not None and STATUS_RANK[status] > STATUS_RANK[generation.status]:
        generation.status = status
        fields.add("status")
    if generation.status == Status.PROCESSING and generation.started_at is None:
        generation.started_at = update.started_at or timezone.now()
        fields.add("started_at")
    if fields:
        generation.save(update_fields=sorted(fields | {"updated_at"}))


def store_output(generation_id: int, *, video_name: str, poster_name: str) -> bool:
    """Marks the generation succeeded with its video and poster, now in our storage.

    False (and the files are removed) when the generation ended meanwhile, e.g. canceled, or
    when another copy of the same video got there first.
    """
    with transaction.atomic():
        generation = _locked(generation_id)
        storage = Generation.video.field.storage
        if generation.is_terminal or generation.replicate_status != ReplicateStatus.SUCCEEDED:
            for name in (video_name, poster_name):
                transaction.on_commit(partial(storage.delete, name))
            return False
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
            record_ending(generation)
    return True


def mark_failed(
    generation_id: int,
    reason: FailureReason,
    detail: str = "",
    *,
    cancel_at_replicate: bool = False,
) -> Generation:
    """Fails the generation for `reason` (`detail`: the technical words, for staff) and refunds
    it, unless it already ended.

    `cancel_at_replicate` also stops its prediction, for one we give up waiting for.
    """
    with transaction.atomic():
        generation = _locked(generation_id)
        if generation.is_terminal:
            return generation
        _end_unsuccessfully(generation, Status.FAILED, reason, detail, set())
        if cancel_at_replicate and generation.prediction_id:
            tasks.cancel_prediction.enqueue(generation.prediction_id)
    return generation


# --- Storage retention: generations/retention.py decides when, these write it. A file's expiry
# date is set (and shown to its owner) before the file is deleted, never on the same pass.

# The files each retained kind takes with it: a video goes with its poster.
RETAINED_FILES = {
    "input_image": ("input_image",),
    "input_audio": ("input_audio",),
    "video": ("video", "poster"),
}


def _retained(kind: str) -> models.QuerySet[Generation]:
    """Ended, not deleted generations that still have the file."""
    return Generation.objects.filter(
        status__in=[Status.SUCCEEDED, Status.FAILED, Status.CANCELED], deleted_at__isnull=True
    ).exclude(**{kind: ""})


def schedule_file_expiry(kind: str, retention: timedelta, earliest: datetime) -> int:
    """Dates the deletion of `kind` (a key of RETAINED_FILES) for generations that have none:
    `retention` after the generation ended, but not before `earliest` (the owner's notice).
    Returns how many were dated."""
    ended_at = Coalesce(F("completed_at"), F("updated_at"))
    expires = ExpressionWrapper(ended_at + Value(retention), output_field=models.DateTimeField())
    undated = _retained(kind).filter(**{f"{kind}_expires_at__isnull": True})
    return undated.update(**{f"{kind}_expires_at": Greatest(expires, Value(earliest))})


def keep_files(kind: str) -> int:
    """Retention turned off: files still stored lose their expiry date; returns how many."""
    dated = _retained(kind).filter(**{f"{kind}_expires_at__isnull": False})
    return dated.update(**{f"{kind}_expires_at": None})


def remove_expired_files(kind: str, now: datetime) -> int:
    """Deletes `kind` of every generation whose expiry date has passed; the row stays (with the
    date, which the pages show). Returns how many generations lost their file."""
    due = _retained(kind).filter(**{f"{kind}_expires_at__lte": now})
    removed = 0
    for generation_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = _locked(generation_id)
            expires_at = getattr(locked, f"{kind}_expires_at")
            if not getattr(locked, kind) or expires_at is None or expires_at > now:
                continue  # kept or deleted meanwhile
            for name in RETAINED_FILES[kind]:
                _delete_on_commit(getattr(locked, name))
                setattr(locked, name, "")
            fields = [*RETAINED_FILES[kind], "updated_at"]
            if kind == "video":  # nothing left to share
                fields += _unshared(locked)
            locked.save(update_fields=fields)
            removed += 1
    return removed


def _delete_on_commit(stored: FieldFile) -> None:
    storage, name = stored.storage, stored.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))
