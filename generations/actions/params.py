"""What a user asks for: GenerationParams, validated by `clean()` into field errors a form or the
API can show, and the stored inputs of a generation reopened for a new one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models.fields.files import FieldFile

from generations import catalog, controls
from generations.audio import clean_audio
from generations.images import clean_image
from generations.models import IDEMPOTENCY_KEY_MAX_LENGTH, Generation, requested_fields
from generations.uploads import CleanUpload
from wan_pwa.analytics.counters import count_event


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
                    f"{model.label} takes no audio track; choose a {catalog.audio_versions()} "
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


def check_idempotency_key(idempotency_key: str | None) -> None:
    """A field error for a key longer than the column holds."""
    if idempotency_key and len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ValidationError(
            {
                "idempotency_key": [
                    f"The idempotency key must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters."
                ]
            }
        )


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
