"""Every write to a generation: one function per business operation.

Views, API views, admin actions, webhooks, tasks and commands call these; nothing else changes a
generation's status or a balance. Lock order, to stay deadlock-free: the generation row first,
then (inside credits.actions) the user's balance row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from credits.actions import InsufficientCredits, charge_generation
from credits.selectors import balance_of
from generations import catalog
from generations.images import validate_image
from generations.models import Generation, Kind, new_share_token


@dataclass(frozen=True)
class GenerationParams:
    """What a user asks for; validated by `clean()` into field errors a form or API can show."""

    model_key: str
    resolution: str
    aspect_ratio: str
    prompt: str
    negative_prompt: str = ""
    seed: int | None = None
    image: UploadedFile | None = None

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
        if self.aspect_ratio not in catalog.ASPECT_RATIOS:
            errors["aspect_ratio"] = [
                f"The aspect ratio must be one of {', '.join(catalog.ASPECT_RATIOS)}."
            ]
        if model is not None and model.needs_image:
            if self.image is None:
                errors["image"] = ["Image-to-video needs an input image."]
            else:
                try:
                    validate_image(self.image)
                except ValidationError as error:
                    errors["image"] = error.messages
        elif model is not None and self.image is not None:
            errors["image"] = ["Text-to-video takes no input image; choose image-to-video."]
        if errors:
            raise ValidationError(errors)
        return GenerationParams(
            model_key=self.model_key,
            resolution=self.resolution,
            aspect_ratio=self.aspect_ratio,
            prompt=prompt,
            negative_prompt=negative_prompt,
            seed=self.seed,
            image=self.image,
        )

    @property
    def cost(self) -> int:
        return catalog.cost_of(self.model_key, self.resolution)


def submit_generation(
    user,
    params: GenerationParams,
    *,
    idempotency_key: str | None = None,
    retried_from: Generation | None = None,
) -> Generation:
    """Validate, then in one transaction: charge, create the generation as queued, enqueue its
    submission to Replicate.

    Raises ValidationError (field errors) or InsufficientCredits; in both cases nothing is created
    and nothing charged. The same idempotency key again returns the first generation, charged once.
    """
    if idempotency_key:
        existing = Generation.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    params = params.clean()
    available = balance_of(user)
    if available < params.cost:  # fail fast before storing an upload; the locked check decides
        raise InsufficientCredits(needed=params.cost, available=available)
    try:
        return _create_charged_generation(user, params, idempotency_key, retried_from)
    except IntegrityError:
        if idempotency_key:
            existing = Generation.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if existing is not None:  # a concurrent request with the same key won
                return existing
        raise


def _create_charged_generation(
    user,
    params: GenerationParams,
    idempotency_key: str | None,
    retried_from: Generation | None,
) -> Generation:
    from generations.tasks import submit_prediction

    model = catalog.get_model(params.model_key)
    with transaction.atomic():
        generation = Generation(
            user=user,
            kind=Kind.IMAGE_TO_VIDEO if model.needs_image else Kind.TEXT_TO_VIDEO,
            model_key=params.model_key,
            resolution=params.resolution,
            aspect_ratio=params.aspect_ratio,
            prompt=params.prompt,
            negative_prompt=params.negative_prompt,
            seed=params.seed,
            cost=params.cost,
            idempotency_key=idempotency_key or None,
            retried_from=retried_from,
        )
        if params.image is not None:
            extension = validate_image(params.image)
            generation.input_image.save(f"input{extension}", params.image, save=False)
        elif retried_from is not None and retried_from.input_image:
            # A copy, so deleting either generation leaves the other's input intact.
            with retried_from.input_image.open("rb") as source:
                name = retried_from.input_image.name
                generation.input_image.save(name.rsplit("/", 1)[-1], source, save=False)
        generation.save()
        charge_generation(generation)
        submit_prediction.enqueue(generation.pk)
    return generation


def params_of(generation: Generation) -> GenerationParams:
    """The parameters a generation was made with (for retry and remix)."""
    return GenerationParams(
        model_key=generation.model_key,
        resolution=generation.resolution,
        aspect_ratio=generation.aspect_ratio,
        prompt=generation.prompt,
        negative_prompt=generation.negative_prompt,
        seed=generation.seed,
    )


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
    generation.share_token = None
    generation.save(update_fields=["share_token", "updated_at"])
    return generation


def delete_generation(generation: Generation) -> None:
    """Hides the generation and removes its stored files once the change is committed.

    The row stays so the credit ledger keeps pointing at what was charged. An in-flight
    generation must be canceled first, so its refund cannot be lost.
    """
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.is_in_flight:
            raise ValidationError("Cancel this generation before deleting it.")
        if locked.deleted_at is not None:
            return
        files = [f for f in (locked.video, locked.poster, locked.input_image) if f]
        locked.deleted_at = timezone.now()
        locked.share_token = None
        locked.starred = False
        locked.video = ""
        locked.poster = ""
        locked.input_image = ""
        locked.save(
            update_fields=[
                "deleted_at",
                "share_token",
                "starred",
                "video",
                "poster",
                "input_image",
                "updated_at",
            ]
        )
        for stored in files:
            transaction.on_commit(lambda f=stored: f.storage.delete(f.name))
    generation.refresh_from_db()
