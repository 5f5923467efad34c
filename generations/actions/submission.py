"""Starting a generation: the policy (idempotency, limits, credits) in `check_submit_generation`,
the work (create it queued and charge it) in `do_submit_generation`, in one transaction.

The parameters come here validated (`GenerationParams.clean`), before any transaction: a refused
upload is counted even though nothing is created. Enqueueing the submission to Replicate is the
caller's (generations.lifecycle.submission), in the transaction this joins.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from credits.actions import CreditDebtOutstanding, InsufficientCredits, charge_generation
from credits.models import CreditBalance
from credits.suspension import lock_balance_of_active_user
from generations import catalog, limits
from generations.actions.errors import CannotRetry, IdempotencyKeyReused
from generations.actions.params import GenerationParams, input_files, reused_params
from generations.models import Generation, requested_fields
from wan_pwa.accounts.models import ApiKey, User


@dataclass(frozen=True)
class Submission:
    generation: Generation
    created: bool  # False: the replay of an earlier request with the same idempotency key


def check_submit_generation(
    user: User,
    params: GenerationParams,
    *,
    idempotency_key: str | None = None,
    retried_from: Generation | None = None,
    api_key: ApiKey | None = None,
) -> Submission:
    """The one way to start a generation, given validated parameters.

    In one transaction: replays an idempotency key, applies every limit, then creates and charges
    the generation (do_submit_generation). Raises IdempotencyKeyReused, AccountSuspended,
    CreditDebtOutstanding, KeyCreditCapReached (the API key's monthly cap), InsufficientCredits
    or a LimitExceeded; nothing is created or charged then, and no uploaded file is kept.
    """
    model = catalog.get_model(params.model_key)
    if params.parent is not None and params.parent.user_id != user.pk:
        # The API and the pages look sources up among the user's own; this is the backstop.
        raise ValidationError({"source_generation": ["No video of yours has this id."]})
    generation = Generation(
        user=user,
        kind=model.kind,
        **requested_fields(params),
        parent=params.parent,
        cost=params.cost,
        idempotency_key=idempotency_key or None,
        retried_from=retried_from,
        api_key=api_key,
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
            limits.check_key_cap(api_key, generation.cost)
            if balance.balance < generation.cost:
                raise InsufficientCredits(needed=generation.cost, available=balance.balance)
            with limits.daily_spend(user, generation.cost):
                do_submit_generation(generation, balance, params)
    except BaseException:
        for stored in input_files(generation):  # nothing was created: keep no uploaded copy
            stored.delete(save=False)
        raise
    return Submission(generation, created=True)


def do_submit_generation(
    generation: Generation, balance: CreditBalance, params: GenerationParams
) -> None:
    """Stores the inputs, creates the generation queued and charges it; the caller holds the
    balance lock and has applied the policy."""
    if params.image is not None:
        generation.input_image.save(f"input{params.image_extension}", params.image, save=False)
    if params.audio is not None:
        generation.input_audio.save(f"audio{params.audio_extension}", params.audio, save=False)
    if params.video is not None:
        generation.input_video.save("source.mp4", params.video, save=False)
    if params.mask is not None:
        generation.input_mask.save("mask.mp4", params.mask, save=False)
    if params.end_image is not None:
        extension = params.end_image_extension
        generation.input_end_image.save(f"end{extension}", params.end_image, save=False)
    generation.save()
    charge_generation(generation, balance)


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
        or first.parent_id != generation.parent_id
    ):
        raise IdempotencyKeyReused()
    return first


def retry_params(generation: Generation) -> GenerationParams:
    """The parameters to submit again for a retry, with the generation's input files reopened
    (the new one gets its own copies; close_files closes them). CannotRetry unless it failed
    or was canceled and still has its inputs."""
    if not generation.can_retry:
        raise CannotRetry(
            "This generation was deleted, so it cannot be retried."
            if generation.deleted_at is not None
            else f"Its {generation.expired_input} has expired, so it cannot be retried."
            if generation.input_expired
            else generation.retry_refusal or "Only a failed or canceled generation can be retried."
        )
    return reused_params(generation)
