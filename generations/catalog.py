"""The model catalog: the only source of what can be generated and what it costs.

Each entry maps our parameters onto the input names of the Replicate model that runs it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from generations.controls import Control, Value, replicate_inputs

ASPECT_RATIOS = ("16:9", "9:16")
PROMPT_MIN_LENGTH = 10
PROMPT_MAX_LENGTH = 500
NEGATIVE_PROMPT_MAX_LENGTH = 500
SEED_MAX = 2**31 - 1


class CatalogError(ValueError):
    """A combination of model, resolution and aspect ratio that the catalog does not offer."""


# A prediction's deadline (Replicate's Cancel-After): a multiple of the typical run plus time to
# wait in the queue and boot a cold model. Past it Replicate ends the prediction unbilled
# (`aborted` if it never started), instead of letting it sit until its 30-minute timeout.
DEADLINE_RUN_FACTOR = 3
DEADLINE_QUEUE_MARGIN = 300  # seconds


@dataclass(frozen=True)
class Variant:
    resolution: str
    credits: int
    replicate_model: str
    typical_run_seconds: int  # on Replicate, once started

    @property
    def deadline_seconds(self) -> int:
        return self.typical_run_seconds * DEADLINE_RUN_FACTOR + DEADLINE_QUEUE_MARGIN


@dataclass(frozen=True)
class CatalogModel:
    key: str
    label: str
    kind: str  # "t2v" or "i2v"
    variants: tuple[Variant, ...]
    # What the Replicate model takes besides prompt, seed and image (MODELS.md).
    controls: tuple[Control, ...]
    takes_negative_prompt: bool
    sends_resolution: bool  # the wavespeed models are one Replicate model per resolution
    # How the orientation is sent: an aspect ratio, a `size` in pixels (2.5 text-to-video), or
    # not at all (the 2.2 and 2.5 image-to-video models follow the image).
    orientation_input: Literal["aspect_ratio", "size", ""] = "aspect_ratio"
    # Credits are per native clip when the model is priced by length (see PRICING).
    priced_by_length: bool = False
    # An optional audio track (`audio`, a WAV or MP3 URL; generations/audio.py has its limits).
    takes_audio: bool = False

    def clip_units(self, options: Mapping[str, Any]) -> float:
        """The video's length in native clips (five seconds, or 81 frames) for these options,
        as typed or cleaned. ValueError for a length the model does not offer."""
        for control in self.controls:
            if control.name in ("duration", "frame_num"):
                value = control.clean(options.get(control.name) or control.default)
                assert isinstance(value, int | float)  # both are numeric choices
                unit = CLIP_FRAMES if control.name == "frame_num" else CLIP_SECONDS
                return value / unit
        return 1

    def cost(self, resolution: str, options: Mapping[str, Any]) -> int:
        credits = self.variant(resolution).credits
        if not self.priced_by_length:
            return credits
        return math.ceil(credits * self.clip_units(options))

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(variant.resolution for variant in self.variants)

    @property
    def needs_image(self) -> bool:
        return self.kind == "i2v"

    def variant(self, resolution: str) -> Variant:
        for variant in self.variants:
            if variant.resolution == resolution:
                return variant
        offered = ", ".join(self.resolutions)
        raise CatalogError(f"{self.label} offers {offered}, not {resolution!r}.")


# Wan's native clip, the unit prices are quoted for: 81 frames at 16 fps, about five seconds.
CLIP_SECONDS = 5
CLIP_FRAMES = 81

# PRICING: a credit stands for about $0.025 of Replicate's price. Wan 2.5 costs about $0.05,
# $0.10 and $0.16 per second at 480p, 720p and 1080p (MODELS.md), so a five-second clip is 10, 20
# and 32 credits and a ten-second one twice that; the fast variants are priced as 2.5 until
# Replicate publishes theirs. Wan 2.2 fast is priced by length at 16 fps like the 2.1 models it
# replaces: 5 and 10 credits per 81 frames at 480p and 720p.
SIZES = {
    ("480p", "16:9"): "832*480",
    ("480p", "9:16"): "480*832",
    ("720p", "16:9"): "1280*720",
    ("720p", "9:16"): "720*1280",
    ("1080p", "16:9"): "1920*1080",
    ("1080p", "9:16"): "1080*1920",
}

# The controls of each family, with the ranges its Replicate schema gives.
WAN_1_3B_CONTROLS = (
    Control("frame_num", "frame_num", "choice", 81, choices=(17, 33, 49, 65, 81), always_sent=True),
    Control("sample_steps", "sample_steps", "integer", 30, minimum=10, maximum=50),
    Control("guidance_scale", "sample_guide_scale", "number", 6, minimum=0, maximum=20),
    Control("shift", "sample_shift", "number", 8, minimum=0, maximum=20),
)
# MODELS.md saw the i2v ranges only; the t2v models share the field set, so they share these.
WAVESPEED_CONTROLS = (
    Control("fast_mode", "fast_mode", "choice", "Balanced", choices=("Off", "Balanced", "Fast")),
    Control("sample_steps", "sample_steps", "integer", 30, minimum=1, maximum=40),
    Control("guidance_scale", "sample_guide_scale", "number", 5, minimum=1, maximum=10),
    Control("shift", "sample_shift", "integer", 3, minimum=0, maximum=10),
    Control("lora_weights", "lora_weights", "url"),
    Control("lora_scale", "lora_scale", "number", 1, minimum=0, maximum=4),
)
# Wan 2.2 fast: MODELS.md verified the field names but not the ranges of shift and the LoRA
# inputs, so those are not offered; the clip length (num_frames 81 to 121), fast mode (a
# boolean, on by default) and prompt optimizing are.
WAN_2_2_CLIP = Control("frame_num", "num_frames", "choice", 81, choices=(81, 121), always_sent=True)
WAN_2_2_FAST = Control("go_fast", "go_fast", "boolean", True)
WAN_2_2_T2V_CONTROLS = (
    WAN_2_2_CLIP,
    WAN_2_2_FAST,
    Control("prompt_expansion", "optimize_prompt", "boolean"),
)
WAN_2_2_I2V_CONTROLS = (WAN_2_2_CLIP, WAN_2_2_FAST)
WAN_2_5_CONTROLS = (
    Control("duration", "duration", "choice", 5, choices=(5, 10), always_sent=True),
    Control("prompt_expansion", "enable_prompt_expansion", "boolean", True),
)

WAN_2_5_CREDITS = {"480p": 10, "720p": 20, "1080p": 32}  # per five seconds (PRICING)
WAN_2_5_RUN_SECONDS = {"480p": 60, "720p": 120, "1080p": 240}


def wan_2_5(kind: Literal["t2v", "i2v"], *, fast: bool) -> CatalogModel:
    """One of the four Wan 2.5 models: the fast ones skip 480p; text-to-video sends a `size`,
    image-to-video a resolution and follows the image's orientation."""
    suffix = "-fast" if fast else ""
    replicate_model = f"wan-video/wan-2.5-{kind}{suffix}"
    resolutions = ("720p", "1080p") if fast else ("480p", "720p", "1080p")
    return CatalogModel(
        key=f"{kind}-2.5{suffix}",
        label=f"Wan 2.5 {'text' if kind == 't2v' else 'image'}-to-video{' fast' if fast else ''}",
        kind=kind,
        variants=tuple(
            Variant(r, WAN_2_5_CREDITS[r], replicate_model, WAN_2_5_RUN_SECONDS[r])
            for r in resolutions
        ),
        controls=WAN_2_5_CONTROLS,
        takes_negative_prompt=True,
        sends_resolution=kind == "i2v",
        orientation_input="size" if kind == "t2v" else "",
        priced_by_length=True,
        takes_audio=True,
    )


MODELS: dict[str, CatalogModel] = {
    model.key: model
    for model in (
        CatalogModel(
            key="t2v-1.3B",
            label="Wan 2.1 text-to-video 1.3B",
            kind="t2v",
            variants=(Variant("480p", 5, "wan-video/wan-2.1-1.3b", typical_run_seconds=40),),
            controls=WAN_1_3B_CONTROLS,
            takes_negative_prompt=False,
            sends_resolution=True,
        ),
        CatalogModel(
            key="t2v-14B",
            label="Wan 2.1 text-to-video 14B",
            kind="t2v",
            variants=(
                Variant("480p", 10, "wavespeedai/wan-2.1-t2v-480p", typical_run_seconds=60),
                Variant("720p", 20, "wavespeedai/wan-2.1-t2v-720p", typical_run_seconds=180),
            ),
            controls=WAVESPEED_CONTROLS,
            takes_negative_prompt=True,
            sends_resolution=False,
        ),
        CatalogModel(
            key="i2v-14B",
            label="Wan 2.1 image-to-video 14B",
            kind="i2v",
            variants=(
                Variant("480p", 10, "wavespeedai/wan-2.1-i2v-480p", typical_run_seconds=60),
                Variant("720p", 20, "wavespeedai/wan-2.1-i2v-720p", typical_run_seconds=180),
            ),
            controls=WAVESPEED_CONTROLS,
            takes_negative_prompt=True,
            sends_resolution=False,
        ),
        CatalogModel(
            key="t2v-2.2-fast",
            label="Wan 2.2 text-to-video fast",
            kind="t2v",
            variants=(
                Variant("480p", 5, "wan-video/wan-2.2-t2v-fast", typical_run_seconds=30),
                Variant("720p", 10, "wan-video/wan-2.2-t2v-fast", typical_run_seconds=60),
            ),
            controls=WAN_2_2_T2V_CONTROLS,
            takes_negative_prompt=False,
            sends_resolution=True,
            priced_by_length=True,
        ),
        CatalogModel(
            key="i2v-2.2-fast",
            label="Wan 2.2 image-to-video fast",
            kind="i2v",
            variants=(
                Variant("480p", 5, "wan-video/wan-2.2-i2v-fast", typical_run_seconds=30),
                Variant("720p", 10, "wan-video/wan-2.2-i2v-fast", typical_run_seconds=60),
            ),
            controls=WAN_2_2_I2V_CONTROLS,
            takes_negative_prompt=False,
            sends_resolution=True,
            orientation_input="",
            priced_by_length=True,
        ),
        *(wan_2_5(kind, fast=fast) for kind in ("t2v", "i2v") for fast in (False, True)),
    )
}

AUDIO_MODEL_KEYS = tuple(key for key, model in MODELS.items() if model.takes_audio)
CHEAPEST_COST = min(variant.credits for model in MODELS.values() for variant in model.variants)


def _pixels(resolution: str) -> int:
    return int(resolution.removesuffix("p"))


RESOLUTIONS = tuple(
    sorted({variant.resolution for m in MODELS.values() for variant in m.variants}, key=_pixels)
)


def longest_seconds() -> int:
    """The longest video any model makes, in whole seconds (lengths in frames at 16 fps)."""
    lengths = [float(CLIP_SECONDS)]
    for model in MODELS.values():
        for control in model.controls:
            if control.name == "duration":
                lengths += [float(value) for value in control.choices]
            elif control.name == "frame_num":
                lengths += [float(value) * CLIP_SECONDS / CLIP_FRAMES for value in control.choices]
    return math.floor(max(lengths))


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _version_numbers(models: Iterable[CatalogModel]) -> list[str]:
    return sorted({model.label.split()[1] for model in models})  # "Wan 2.5 ..." -> "2.5"


def versions(models: Iterable[CatalogModel]) -> str:
    """The Wan versions of `models` as people read them: "Wan 2.1, 2.2 and 2.5"."""
    return f"Wan {_joined(_version_numbers(models))}"


def audio_versions() -> str:
    """The Wan versions of the models that take an audio track: "Wan 2.5"."""
    return versions(model for model in MODELS.values() if model.takes_audio)


def summary() -> str:
    """What the service does, in the catalog's terms: for the pages, the manifest and the API."""
    offered = versions(MODELS.values())
    verb = "turns" if len(_version_numbers(MODELS.values())) == 1 else "turn"
    largest = max((r for model in MODELS.values() for r in model.resolutions), key=_pixels)
    return (
        f"{offered} {verb} a prompt, or an image and a prompt, into a video of up "
        f"to {longest_seconds()} seconds at up to {largest}."
    )


def get_model(key: str) -> CatalogModel:
    try:
        return MODELS[key]
    except KeyError:
        offered = ", ".join(MODELS)
        raise CatalogError(f"Unknown model {key!r}; choose one of {offered}.") from None


def resolve(model_key: str, resolution: str, aspect_ratio: str) -> Variant:
    """The variant for a combination, or CatalogError with a sentence a user can act on."""
    model = get_model(model_key)
    variant = model.variant(resolution)
    if aspect_ratio not in ASPECT_RATIOS:
        raise CatalogError(f"Aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.")
    return variant


def cost_of(model_key: str, resolution: str, options: Mapping[str, Any] | None = None) -> int:
    return get_model(model_key).cost(resolution, options or {})


def cost_or_none(
    model_key: str, resolution: str, options: Mapping[str, Any] | None = None
) -> int | None:
    """The cost, or None for a model or resolution we do not offer (validation says why)."""
    try:
        return cost_of(model_key, resolution, options)
    except ValueError:  # CatalogError too
        return None


def prices(kind: str) -> list[tuple[str, list[int]]]:
    """Each resolution the models of `kind` offer, with the credits a five-second clip costs,
    cheapest first."""
    credits: dict[str, set[int]] = {}
    for model in MODELS.values():
        if model.kind == kind:
            for variant in model.variants:
                credits.setdefault(variant.resolution, set()).add(variant.credits)
    by_size = sorted(credits, key=_pixels)
    return [(resolution, sorted(credits[resolution])) for resolution in by_size]


def price_table() -> list[tuple[CatalogModel, list[tuple[str, int]]]]:
    """Each model with what a five-second clip costs at each of its resolutions."""
    return [
        (model, [(variant.resolution, variant.credits) for variant in model.variants])
        for model in MODELS.values()
    ]


def replicate_input(
    *,
    model_key: str,
    resolution: str,
    aspect_ratio: str,
    prompt: str,
    negative_prompt: str = "",
    seed: int | None = None,
    options: Mapping[str, Value] | None = None,
    image_url: str | None = None,
    audio_url: str | None = None,
) -> dict[str, Any]:
    """Our parameters under the input names of the Replicate model that runs them; the audio
    track only when there is one (it is optional) and the model takes it."""
    model = get_model(model_key)
    data: dict[str, Any] = {"prompt": prompt}
    if model.orientation_input == "aspect_ratio":
        data["aspect_ratio"] = aspect_ratio
    elif model.orientation_input == "size":
        data["size"] = SIZES[resolution, aspect_ratio]
    data.update(replicate_inputs(model.controls, options or {}))
    if model.sends_resolution:
        data["resolution"] = resolution
    if negative_prompt and model.takes_negative_prompt:
        data["negative_prompt"] = negative_prompt
    if seed is not None:
        data["seed"] = seed
    if model.needs_image:
        data["image"] = image_url
    if audio_url and model.takes_audio:
        data["audio"] = audio_url
    return data


def as_dict() -> list[dict[str, Any]]:
    """The catalog as plain data, for the create page's script and the API."""
    return [
        {
            "key": model.key,
            "label": model.label,
            "kind": model.kind,
            "needs_image": model.needs_image,
            "takes_audio": model.takes_audio,
            "takes_negative_prompt": model.takes_negative_prompt,
            "priced_by_length": model.priced_by_length,
            "controls": [control.as_dict() for control in model.controls],
            "aspect_ratios": list(ASPECT_RATIOS),
            "resolutions": [
                {"resolution": variant.resolution, "credits": variant.credits}
                for variant in model.variants
            ],
        }
        for model in MODELS.values()
    ]
