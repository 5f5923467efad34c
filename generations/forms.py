"""The create form: what the page collects, turned into GenerationParams for the actions."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from generations import audio as audio_limits
from generations import catalog, controls, selectors
from generations.actions.params import GenerationParams, reopened
from generations.images import (
    ACCEPTED_CONTENT_TYPES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIZE,
    MIN_IMAGE_SIDE,
)
from generations.models import IDEMPOTENCY_KEY_MAX_LENGTH, Generation, Kind
from generations.operations import Operation

# What the create page makes; video to video are takes, made from a source on its edit pages.
CREATE_KINDS = (Kind.TEXT_TO_VIDEO, Kind.IMAGE_TO_VIDEO)
# Besides the creating models, the create page offers the talking portrait: it starts from an
# image and a track, not from a video, so it has no edit page of its own.
PAGE_OPERATIONS = (Operation.CREATE, Operation.SPEAK)


def page_models() -> list[catalog.CatalogModel]:
    """The models the create page offers, in catalog order."""
    return [
        model
        for model in catalog.MODELS.values()
        if any(operation in PAGE_OPERATIONS for operation in model.operations)
    ]


def page_operation(model: catalog.CatalogModel) -> Operation:
    """What a submission of the create page does with this model."""
    return Operation.CREATE if model.creates else model.operations[0]


def model_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    # Grouped by kind, so the page reads well even before its script narrows the list.
    return [
        (
            kind.label,
            [(m.key, _choice_label(m)) for m in page_models() if m.kind == kind.value],
        )
        for kind in CREATE_KINDS
    ]


def _choice_label(model: catalog.CatalogModel) -> str:
    # A model turned off (DISABLED_MODELS) stays listed, so the page says why it is refused.
    return model.label if model.is_ready else f"{model.label} (temporarily unavailable)"


def script_data() -> dict[str, Any]:
    """What the create page's script checks before a round trip (json_script embeds it): the
    catalog and the limits, taken from the modules that own them."""
    return {
        # With the input each model's length (and so its cost) follows: the talking portrait's
        # is its track's.
        "models": [
            entry | {"length_follows": catalog.MODELS[entry["key"]].length_follows}
            for entry in catalog.as_dict(page_models())
        ],
        "pricing": {"clip_seconds": catalog.CLIP_SECONDS, "clip_frames": catalog.CLIP_FRAMES},
        "prompt": {"min": catalog.PROMPT_MIN_LENGTH, "max": catalog.PROMPT_MAX_LENGTH},
        "image": {
            "types": list(ACCEPTED_CONTENT_TYPES),
            "max_bytes": MAX_IMAGE_BYTES,
            "max_size": MAX_IMAGE_SIZE,
            "min_side": MIN_IMAGE_SIDE,
            "max_pixels": MAX_IMAGE_PIXELS,
        },
        "audio": {
            "types": list(audio_limits.ACCEPTED_CONTENT_TYPES),
            "extensions": list(audio_limits.ACCEPTED_EXTENSIONS),
            "max_bytes": audio_limits.MAX_AUDIO_BYTES,
            "max_size": audio_limits.MAX_AUDIO_SIZE,
            "min_seconds": audio_limits.MIN_AUDIO_SECONDS,
            "max_seconds": audio_limits.MAX_AUDIO_SECONDS,
        },
    }


def option_field(name: str) -> forms.Field:
    """The form field of an advanced setting, with no range: the create page's script sets each
    model's from the catalog, and GenerationParams.clean checks it."""
    kinds = {c.kind for m in catalog.MODELS.values() for c in m.controls if c.name == name}
    attrs = {"data-control": name}
    common: dict[str, Any] = {
        "required": False,
        "label": controls.LABELS[name],
        "help_text": controls.HELP[name],
    }
    if kinds == {"choice"}:
        choices = {c for m in catalog.MODELS.values() for c in m.controls if c.name == name}
        offered = sorted({str(v) for control in choices for v in control.choices}, key=_natural)
        return forms.ChoiceField(
            choices=[("", "Model default"), *((v, v) for v in offered)],
            widget=forms.Select(attrs=attrs),
            **common,
        )
    if kinds == {"boolean"}:
        return forms.ChoiceField(
            choices=[("", "Model default"), ("true", "On"), ("false", "Off")],
            widget=forms.Select(attrs=attrs),
            **common,
        )
    if kinds == {"url"}:
        attrs |= {"inputmode": "url", "placeholder": "https://huggingface.co/…"}
        return forms.CharField(
            max_length=controls.URL_MAX_LENGTH, widget=forms.TextInput(attrs=attrs), **common
        )
    if kinds == {"integer"}:
        return forms.IntegerField(widget=forms.NumberInput(attrs=attrs), **common)
    # A number on one model may be an integer on another (shift): any step, checked later.
    return forms.FloatField(widget=forms.NumberInput(attrs=attrs | {"step": "any"}), **common)


def _as_text(value: controls.Value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _natural(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def prompt_field(purpose: str, *, rows: int, required: bool = True) -> forms.CharField:
    """The prompt box: `purpose` starts its help ("Describe the scene")."""
    return forms.CharField(
        required=required,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": catalog.PROMPT_MAX_LENGTH}),
        help_text=(
            f"{purpose}, {catalog.PROMPT_MIN_LENGTH} to {catalog.PROMPT_MAX_LENGTH} characters."
        ),
    )


def image_field(*, label: str | None = None, purpose: str = "") -> forms.FileField:
    """An optional image upload (decoded when the submission is cleaned)."""
    return forms.FileField(
        required=False,
        label=label,
        help_text=f"{purpose}JPEG, PNG or WebP, at most {MAX_IMAGE_SIZE}.",
        widget=forms.FileInput(attrs={"accept": ",".join(ACCEPTED_CONTENT_TYPES)}),
    )


class CreateForm(forms.Form):
    """Lengths and combinations are checked by GenerationParams, the rule every client obeys;
    the maxlength attributes only stop a browser from typing past them."""

    kind = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in CREATE_KINDS],
        initial=Kind.TEXT_TO_VIDEO,
        widget=forms.RadioSelect,
    )
    model_key = forms.ChoiceField(label="Model", choices=model_choices, initial="t2v-14B")
    resolution = forms.ChoiceField(
        choices=[(r, r) for r in catalog.RESOLUTIONS], initial=catalog.RESOLUTIONS[0]
    )
    aspect_ratio = forms.ChoiceField(
        label="Aspect ratio",
        choices=[(r, r) for r in catalog.ASPECT_RATIOS],
        initial=catalog.ASPECT_RATIOS[0],
        widget=forms.RadioSelect,
    )
    prompt = prompt_field("Describe the scene", rows=4)
    image = image_field(label="Input image")
    audio = forms.FileField(
        required=False,
        label="Audio track",
        help_text=(
            f"Speech or music for the video to go with ({catalog.audio_versions()}): WAV or MP3, "
            f"{audio_limits.MIN_AUDIO_SECONDS} to {audio_limits.MAX_AUDIO_SECONDS} seconds, at "
            f"most {audio_limits.MAX_AUDIO_SIZE}."
        ),
        widget=forms.FileInput(
            attrs={
                "accept": ",".join(("audio/wav", "audio/mpeg", *audio_limits.ACCEPTED_EXTENSIONS))
            }
        ),
    )
    end_image = image_field(
        label="Last frame (optional)",
        purpose="The image the video ends on, for the models that take one. ",
    )
    negative_prompt = forms.CharField(
        required=False,
        label="Negative prompt",
        help_text="What the video should avoid.",
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": catalog.NEGATIVE_PROMPT_MAX_LENGTH}),
    )
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=catalog.SEED_MAX,
        help_text="The same seed and parameters give the same video. Empty: random.",
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=IDEMPOTENCY_KEY_MAX_LENGTH, required=False
    )
    # Remixing a generation may reuse its input image and audio track instead of new uploads.
    remix_of = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reuse_audio = forms.BooleanField(required=False, initial=True)

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields.update({name: option_field(name) for name in controls.LABELS})
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    @classmethod
    def remixing(cls, user, generation: Generation) -> CreateForm:
        """An unbound form prefilled with the parameters of one of the user's generations."""
        return cls(
            user,
            initial={
                "kind": generation.kind,
                "model_key": generation.model_key,
                "resolution": generation.resolution,
                "aspect_ratio": generation.aspect_ratio,
                "prompt": generation.prompt,
                "negative_prompt": generation.negative_prompt,
                "seed": generation.seed,
                **{name: _as_text(value) for name, value in generation.options.items()},
                "remix_of": generation.pk
                if generation.input_image or generation.input_audio
                else None,
            },
        )

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in controls.LABELS]

    def has_advanced_values(self) -> bool:
        """Opens "Advanced settings" when it holds a value or an error."""
        names = ("negative_prompt", "seed", *controls.LABELS)
        return any(self[name].errors or self[name].value() not in (None, "") for name in names)

    def chosen_model(self) -> catalog.CatalogModel | None:
        """The model the form shows chosen, so the page is drawn as its script will leave it
        (the audio field only for a model that takes a track: nothing shifts on load)."""
        return catalog.MODELS.get(str(self["model_key"].value()))

    def takes_end_image(self) -> bool:
        """The end image's field is drawn only for a model that takes one (first and last
        frame), so nothing shifts when the script starts."""
        model = self.chosen_model()
        return model is not None and model.takes("end_image")

    def requires_audio(self) -> bool:
        """The talking portrait's track is required: its label drops "(optional)"."""
        model = self.chosen_model()
        return model is not None and model.requires("audio")

    def remix_source(self) -> Generation | None:
        value = self.initial.get("remix_of") if not self.is_bound else self.data.get("remix_of")
        if value is None:
            return None
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        inputs = selectors.history_of(self.user).exclude(input_image="", input_audio="")
        return inputs.filter(pk=pk).first()

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        model_key = cleaned.get("model_key")
        kind = cleaned.get("kind")
        if model_key and kind and catalog.get_model(model_key).kind != kind:
            self.add_error("model_key", f"Choose a model for {Kind(kind).label.lower()}.")
        return cleaned

    def params(self) -> GenerationParams:
        """The validated form as parameters; the actions decide whether they make a video
        (an image sent with a text-to-video model is theirs to refuse, as for the API)."""
        data = self.cleaned_data
        model = catalog.get_model(data["model_key"])
        source = self.remix_source()
        image, track = data.get("image"), data.get("audio")
        if image is None and model.needs_image and source and source.input_image:
            image = reopened(source.input_image)
        reuse = data.get("reuse_audio") and model.takes_audio
        if track is None and reuse and source and source.input_audio:
            track = reopened(source.input_audio)
        return GenerationParams(
            model_key=data["model_key"],
            resolution=data["resolution"],
            aspect_ratio=data["aspect_ratio"],
            prompt=data["prompt"],
            negative_prompt=data.get("negative_prompt") or "",
            seed=data.get("seed"),
            options={name: data.get(name) for name in controls.LABELS},
            image=image,
            audio=track,
            end_image=data.get("end_image"),
            operation=page_operation(model),
        )
