"""What a user asks for: GenerationParams, validated by `clean()` into field errors a form or the
API can show, and the stored inputs of a generation reopened for a new one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models.fields.files import FieldFile

from generations import catalog, controls
from generations.audio import clean_audio
from generations.images import clean_image
from generations.masks import MaskBox, render_mask, size_errors
from generations.models import IDEMPOTENCY_KEY_MAX_LENGTH, Generation, requested_fields
from generations.operations import NEEDS_SOURCE_VIDEO, Operation
from generations.source_videos import SourceVideo, clean_source_video
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
    # A take: what it does, and its source (a generation of the user's, whose video is used
    # unless `video` is given: an upload, or a retry's own copy).
    operation: str = Operation.CREATE
    parent: Generation | None = None
    video: File | None = None
    end_image: File | None = None  # first and last frame
    mask: File | None = None  # VACE: white regenerates, black keeps
    # Or a box drawn on the source's first frame, rendered into the mask by clean().
    mask_box: MaskBox | None = None
    # Set by clean() once the files are decoded and written anew: their real formats' extensions,
    # and the length of the input the video's length follows (for its cost).
    image_extension: str = ""
    audio_extension: str = ""
    end_image_extension: str = ""
    input_seconds: float | None = None

    def clean(self) -> GenerationParams:
        errors: dict[str, list[str]] = {}
        prompt = (self.prompt or "").strip()
        negative_prompt = (self.negative_prompt or "").strip()
        takes_prompt = (found := catalog.MODELS.get(self.model_key)) is None or found.takes_prompt
        if takes_prompt and not (
            catalog.PROMPT_MIN_LENGTH <= len(prompt) <= catalog.PROMPT_MAX_LENGTH
        ):
            errors["prompt"] = [
                f"The prompt must be {catalog.PROMPT_MIN_LENGTH} to {catalog.PROMPT_MAX_LENGTH} "
                f"characters long (it is {len(prompt)})."
            ]
        elif not takes_prompt and prompt:
            errors["prompt"] = [f"{self.model_key} takes no prompt; leave it empty."]
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
        if model is not None and not model.is_ready:
            errors["model_key"] = [
                f"{model.label} is temporarily unavailable; choose another model."
            ]
        operation_errors = _operation_errors(self.operation, model, self.parent)
        errors.update(operation_errors)
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
        if model is not None and model.takes("image") and self.image is not None:
            try:
                image = _counted(clean_image, self.image, "image_upload")
            except ValidationError as error:
                errors["image"] = error.messages
        elif model is not None and model.needs_image:
            errors["image"] = [
                "Image-to-video needs an input image."
                if model.kind == "i2v"
                else f"{model.label} needs a character image."
            ]
        elif model is not None and self.image is not None:
            errors["image"] = (
                ["Text-to-video takes no input image; choose image-to-video."]
                if model.kind == "t2v"
                else [f"{model.label} takes no image."]
            )
        end_image: CleanUpload | None = None
        if model is not None and self.end_image is not None:
            if not model.takes("end_image"):
                errors["end_image"] = [f"{model.label} takes no end image."]
            else:
                try:
                    end_image = _counted(clean_image, self.end_image, "image_upload")
                except ValidationError as error:
                    errors["end_image"] = error.messages
        source: SourceVideo | None = None
        mask: File | None = None
        if model is not None and model.is_ready and not operation_errors:
            source, source_errors = _source_video(self, model)
            errors.update(source_errors)
            mask, mask_errors = _mask(self, model, source)
            errors.update(mask_errors)
        audio: CleanUpload | None = None
        if model is not None and self.audio is not None:
            if not model.takes_audio:
                errors["audio"] = [
                    f"{model.label} takes no audio track; choose a {catalog.audio_versions()} "
                    "model for one."
                ]
            else:
                try:
                    audio = _counted(
                        partial(clean_audio, limits=model.audio_limits), self.audio, "audio_upload"
                    )
                except ValidationError as error:
                    errors["audio"] = error.messages
        elif model is not None and model.requires("audio"):
            errors["audio"] = [f"{model.label} needs an audio track (a voice or a song)."]
        input_seconds = _followed_seconds(model, source, audio)
        if model is not None and not errors:
            errors.update(_length_errors(model, options, input_seconds))
        if errors:
            for cleaned in (source.file if source else None, mask):
                if cleaned is not None:
                    cleaned.close()
            raise ValidationError(errors)
        return replace(
            self,
            prompt=prompt,
            negative_prompt=negative_prompt,
            options=options,
            # A take's video has its source's orientation.
            aspect_ratio=source.orientation if source else self.aspect_ratio,
            # From here on, the files are what we decoded and wrote anew (images.py, audio.py,
            # source_videos.py).
            image=image.file if image else None,
            image_extension=image.extension if image else "",
            audio=audio.file if audio else None,
            audio_extension=audio.extension if audio else "",
            video=source.file if source else None,
            mask=mask,
            mask_box=None,  # drawn into the mask
            end_image=end_image.file if end_image else None,
            end_image_extension=end_image.extension if end_image else "",
            input_seconds=input_seconds,
        )

    @property
    def cost(self) -> int:
        return catalog.cost_of(self.model_key, self.resolution, self.options, self.input_seconds)

    def close_files(self) -> None:
        for upload in (self.image, self.audio, self.video, self.end_image, self.mask):
            if upload is not None:
                upload.close()


def _operation_errors(
    operation: str, model: catalog.CatalogModel | None, parent: Generation | None
) -> dict[str, list[str]]:
    if operation not in Operation.values:
        return {"operation": [f"Choose one of {', '.join(Operation.values)}."]}
    if model is not None and operation not in model.operations:
        offered = ", ".join(model.operations)
        return {"operation": [f"{model.label} does not {operation}; it does: {offered}."]}
    if parent is not None and operation == Operation.CREATE:
        return {"operation": ["Say what to do with the source video (the operation)."]}
    return {}


def _source_video(
    params: GenerationParams, model: catalog.CatalogModel
) -> tuple[SourceVideo | None, dict[str, list[str]]]:
    """The take's source video, from the upload (or a retry's copy) or the source generation,
    checked against the model's limits; field errors otherwise."""
    needed = params.operation in NEEDS_SOURCE_VIDEO or model.requires("video")
    field = "video" if params.video is not None else "source_generation"
    if not needed:
        if params.video is not None or params.parent is not None:
            return None, {field: [f"{model.label} takes no source video."]}
        return None, {}
    upload = params.video
    opened = None
    if upload is None and params.parent is not None:
        if not params.parent.is_ready:
            return None, {field: ["This video is not available as a source."]}
        upload = opened = reopened(params.parent.video)
    if upload is None:
        return None, {"video": [f"{model.label} needs a source video: one of yours or an upload."]}
    limits = model.source_limits or catalog.JOINED_SOURCE_LIMITS
    try:
        return _counted_video(upload, limits, "source video"), {}
    except ValidationError as error:
        return None, {field: error.messages}
    finally:
        if opened is not None:
            opened.close()


def _mask(
    params: GenerationParams, model: catalog.CatalogModel, source: SourceVideo | None
) -> tuple[File | None, dict[str, list[str]]]:
    """The mask video: the box rendered over the source, or the upload checked against it."""
    field = "mask_box" if params.mask_box is not None else "mask"
    if params.mask is None and params.mask_box is None:
        if model.requires("mask"):
            return None, {
                "mask": [f"{model.label} needs a mask: draw a box (mask_box) or upload a video."]
            }
        return None, {}
    if not model.takes("mask"):
        return None, {field: [f"{model.label} takes no mask."]}
    if params.mask is not None and params.mask_box is not None:
        return None, {"mask": ["Send either a mask video or a mask_box, not both."]}
    if source is None:  # the source's own error says why
        return None, {}
    if params.mask_box is not None:
        if box_errors := params.mask_box.errors(source.width, source.height):
            return None, {"mask_box": box_errors}
        return render_mask(source, params.mask_box), {}
    assert params.mask is not None
    limits = model.source_limits or catalog.JOINED_SOURCE_LIMITS
    try:
        mask = _counted_video(params.mask, limits, "mask video")
    except ValidationError as error:
        return None, {"mask": error.messages}
    if mismatch := size_errors(mask, source):
        mask.file.close()
        return None, {"mask": mismatch}
    return mask.file, {}


def _counted_video(upload: File, limits: catalog.SourceLimits, what: str) -> SourceVideo:
    try:
        cleaned = clean_source_video(upload, limits, what)
    except ValidationError as error:
        count_event("video_upload", f"refused: {error.code}")
        raise
    count_event("video_upload", "accepted")
    return cleaned


def _followed_seconds(
    model: catalog.CatalogModel | None, source: SourceVideo | None, audio: CleanUpload | None
) -> float | None:
    """The length of the input whose length the video takes, when the model has one."""
    if model is None:
        return None
    if model.length_follows == "video" and source is not None:
        return source.seconds
    if model.length_follows == "audio" and audio is not None:
        return audio.seconds
    return None


def _length_errors(
    model: catalog.CatalogModel, options: Mapping[str, Any], input_seconds: float | None
) -> dict[str, list[str]]:
    """A chosen length longer than the source it is cut from."""
    chosen = options.get("duration")
    if (
        model.length_follows == "video"
        and input_seconds
        and isinstance(chosen, int | float)
        and chosen > round(input_seconds, 1)
    ):
        return {
            "duration": [
                f"The source is {input_seconds:.1f} s long: choose at most that, or leave "
                "the length unset to keep all of it."
            ]
        }
    return {}


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


def reused_params(generation: Generation, **changes: Any) -> GenerationParams:
    """The parameters of a generation with its stored input files reopened (the new one gets
    its own copies; close_files closes them) and `changes` applied: what a retry submits, and
    what a remix starts from. A take keeps its operation and its source, even one deleted since
    (the take has its own copy of the source video)."""
    files: dict[str, Any] = {
        name: reopened(stored) if stored else None for name, stored in stored_inputs(generation)
    }
    return replace(params_of(generation), parent=generation.parent, **files, **changes)


def stored_inputs(generation: Generation) -> list[tuple[str, FieldFile]]:
    """The generation's input file fields by the GenerationParams field each one fills."""
    return [
        ("image", generation.input_image),
        ("audio", generation.input_audio),
        ("video", generation.input_video),
        ("mask", generation.input_mask),
        ("end_image", generation.input_end_image),
    ]


def input_files(generation: Generation) -> list[FieldFile]:
    """The generation's stored input files, those it has."""
    return [stored for _, stored in stored_inputs(generation) if stored]


def reopened(stored: FieldFile) -> File:
    """A stored input file opened as an upload, for a new generation (a retry, a remix) to get
    its own copy; GenerationParams.close_files closes it."""
    return File(stored.open("rb"), name=stored.name)
