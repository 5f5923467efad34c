"""The edit page's form: a take of one of the user's videos (or of an uploaded clip) by one
operation, with only the controls of that operation's models, turned into GenerationParams.

A region edit's box (x, y, width and height as fractions of the frame, drawn on the source's first
frame or typed in four fields, which work without the page's script) is the API's `mask_box`,
rendered into the mask video by GenerationParams.clean; or the user uploads a mask video.
"""

from __future__ import annotations

import uuid
from typing import Any

import av
from django import forms
from django.db.models.fields.files import FieldFile

from generations import catalog
from generations.actions.params import GenerationParams, reopened
from generations.forms import image_field, option_field, prompt_field
from generations.masks import MaskBox
from generations.models import IDEMPOTENCY_KEY_MAX_LENGTH, Generation
from generations.operations import NEEDS_SOURCE_VIDEO, Operation
from generations.source_videos import ACCEPTED_CONTENT_TYPES as VIDEO_TYPES

BOX_FIELDS = ("mask_x", "mask_y", "mask_width", "mask_height")
BOX_LABELS = {
    "mask_x": "Left edge",
    "mask_y": "Top edge",
    "mask_width": "Width",
    "mask_height": "Height",
}
# The image each operation's models take, as the page names it (extend makes its own from the
# source's last frame).
IMAGE_LABELS = {
    Operation.EDIT: "Reference image (optional)",
    Operation.ANIMATE: "Character image",
    Operation.REPLACE: "Character image",
    Operation.REGION: "Reference image (optional)",
}


def models_for(operation: str) -> list[catalog.CatalogModel]:
    return [m for m in catalog.MODELS.values() if operation in m.operations and m.is_ready]


def edit_operations() -> list[Operation]:
    """The operations made from a source video that a ready model offers, in the catalog's
    order: each gets its tab as soon as its model is in the catalog."""
    return [op for op in Operation if op in NEEDS_SOURCE_VIDEO and models_for(op)]


def video_seconds(video: FieldFile) -> float | None:
    """The length of a stored video, read from its container (no frame decoded)."""
    try:
        with reopened(video) as opened, av.open(opened, "r") as container:
            return container.duration / av.time_base if container.duration else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def costs(operation: str, input_seconds: float | None) -> dict[str, Any]:
    """Each model's cost by resolution and chosen length ("" for none): the page's script reads
    it, so the price shown is the catalog's. None where the length follows a clip not yet read."""
    table: dict[str, Any] = {}
    for model in models_for(operation):
        lengths = [""] + [
            str(choice) for c in model.controls if c.name == "duration" for choice in c.choices
        ]
        table[model.key] = {
            resolution: {
                length: None
                if not length and model.length_follows == "video" and not input_seconds
                else catalog.cost_or_none(
                    model.key, resolution, {"duration": length} if length else {}, input_seconds
                )
                for length in lengths
            }
            for resolution in model.resolutions
        }
    return table


class EditForm(forms.Form):
    model_key = forms.ChoiceField(label="Model")
    resolution = forms.ChoiceField()
    prompt = prompt_field("What to change", rows=3, required=False)
    video = forms.FileField(
        required=False,
        label="Clip",
        help_text="An MP4, MOV or WebM video.",
        widget=forms.FileInput(attrs={"accept": ",".join(VIDEO_TYPES)}),
    )
    image = image_field()
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=catalog.SEED_MAX,
        help_text="The same seed and parameters give the same video. Empty: random.",
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=IDEMPOTENCY_KEY_MAX_LENGTH, required=False
    )

    def __init__(
        self, operation: Operation, source: Generation | None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.operation, self.source = operation, source
        self.models = models_for(operation)
        resolutions = dict.fromkeys(r for m in self.models for r in m.resolutions)
        self._choose("model_key", [(m.key, m.label) for m in self.models])
        self._choose("resolution", [(r, r) for r in resolutions])
        self.fields["image"].label = IMAGE_LABELS.get(operation, "Image")
        names = dict.fromkeys(c.name for m in self.models for c in m.controls)
        self.fields.update({name: option_field(name) for name in names})
        self.control_names = list(names)
        if operation == Operation.REGION:
            for name in BOX_FIELDS:
                self.fields[name] = forms.FloatField(
                    label=BOX_LABELS[name],
                    required=False,
                    min_value=0,
                    max_value=1,
                    widget=forms.NumberInput(
                        attrs={"step": "0.01", "inputmode": "decimal", "data-box": name}
                    ),
                )
            self.fields["mask"] = forms.FileField(
                required=False,
                label="Or upload a mask video",
                help_text=(
                    "White where the video changes, black where it stays; the size and length "
                    "of the source."
                ),
                widget=forms.FileInput(attrs={"accept": ",".join(VIDEO_TYPES)}),
            )
        if source is not None:
            del self.fields["video"]
        if not self.shows_image():
            del self.fields["image"]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            if self.models:
                self.initial.setdefault("model_key", self.models[0].key)

    def _choose(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def chosen_model(self) -> catalog.CatalogModel | None:
        found = catalog.MODELS.get(str(self["model_key"].value()))
        return found if found in self.models else (self.models[0] if self.models else None)

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.control_names]

    def has_advanced_values(self) -> bool:
        """Opens "Advanced settings" when it holds a value or an error."""
        names = ("seed", *self.control_names)
        return any(self[name].errors or self[name].value() not in (None, "") for name in names)

    def box_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in BOX_FIELDS if name in self.fields]

    def shows_image(self) -> bool:
        return self.operation != Operation.EXTEND and any(m.takes("image") for m in self.models)

    def chosen_takes_image(self) -> bool:
        model = self.chosen_model()
        return model is not None and model.takes("image")

    def script_data(self) -> dict[str, Any]:
        """What the page's script needs of each model: its controls, and whether it takes a
        prompt and an image."""
        return {
            m.key: {
                "controls": [c.name for c in m.controls],
                "resolutions": list(m.resolutions),
                "prompt": m.takes_prompt,
                "image": m.takes("image"),
            }
            for m in self.models
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.operation == Operation.REGION and not self.errors:
            box = [data.get(name) for name in BOX_FIELDS]
            if data.get("mask") is not None:
                if any(value is not None for value in box):
                    self.add_error("mask", "Draw a region or upload a mask video, not both.")
            elif any(value is None for value in box):
                self.add_error(None, "Draw the region to change on the first frame.")
            elif not (data["mask_width"] > 0 and data["mask_height"] > 0):
                self.add_error("mask_width", "The region must have a width and a height.")
            elif (
                data["mask_x"] + data["mask_width"] > 1 or data["mask_y"] + data["mask_height"] > 1
            ):
                self.add_error("mask_width", "The region must stay inside the frame.")
        return data

    def _box(self) -> MaskBox | None:
        values = [self.cleaned_data.get(name) for name in BOX_FIELDS]
        numbers = [float(value) for value in values if value is not None]
        return MaskBox(*numbers) if len(numbers) == len(BOX_FIELDS) else None

    def params(self) -> GenerationParams:
        """The form as parameters; GenerationParams.clean decodes and checks the files."""
        data = self.cleaned_data
        return GenerationParams(
            model_key=data["model_key"],
            resolution=data["resolution"],
            aspect_ratio=catalog.ASPECT_RATIOS[0],  # a take has its source's
            prompt=data.get("prompt") or "",
            seed=data.get("seed"),
            options={name: data.get(name) for name in self.control_names},
            image=data.get("image"),
            operation=self.operation,
            parent=self.source,
            video=data.get("video"),
            mask=data.get("mask"),
            mask_box=self._box(),
        )
