"""The model catalog: the only source of what can be generated and what it costs.

Each entry maps our parameters onto the input names of the Replicate model that runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    # What the Replicate model takes besides prompt, aspect ratio, seed and image (MODELS.md).
    controls: tuple[Control, ...]
    takes_negative_prompt: bool
    sends_resolution: bool  # 1.3B names its one resolution; the others are one model per size

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


# The controls of each family, with the ranges its Replicate schema gives.
WAN_1_3B_CONTROLS = (
    # 16 fps: 81 frames (Wan 2.1's native clip) is about five seconds.
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
    )
}

CHEAPEST_COST = min(variant.credits for model in MODELS.values() for variant in model.variants)
RESOLUTIONS = tuple(sorted({variant.resolution for m in MODELS.values() for variant in m.variants}))


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


def cost_of(model_key: str, resolution: str) -> int:
    return get_model(model_key).variant(resolution).credits


def cost_or_none(model_key: str, resolution: str) -> int | None:
    """The cost, or None for a model or resolution we do not offer (validation says why)."""
    try:
        return cost_of(model_key, resolution)
    except CatalogError:
        return None


def prices(kind: str) -> list[tuple[str, list[int]]]:
    """Each resolution the models of `kind` offer, with the credits they charge, cheapest first."""
    credits: dict[str, set[int]] = {}
    for model in MODELS.values():
        if model.kind == kind:
            for variant in model.variants:
                credits.setdefault(variant.resolution, set()).add(variant.credits)
    return [(resolution, sorted(credits[resolution])) for resolution in sorted(credits)]


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
) -> dict[str, Any]:
    """Our parameters under the input names of the Replicate model that runs them."""
    model = get_model(model_key)
    data: dict[str, Any] = {"prompt": prompt, "aspect_ratio": aspect_ratio}
    data.update(replicate_inputs(model.controls, options or {}))
    if model.sends_resolution:
        data["resolution"] = resolution
    if negative_prompt and model.takes_negative_prompt:
        data["negative_prompt"] = negative_prompt
    if seed is not None:
        data["seed"] = seed
    if model.needs_image:
        data["image"] = image_url
    return data


def as_dict() -> list[dict[str, Any]]:
    """The catalog as plain data, for the create page's script and the API."""
    return [
        {
            "key": model.key,
            "label": model.label,
            "kind": model.kind,
            "needs_image": model.needs_image,
            "takes_negative_prompt": model.takes_negative_prompt,
            "controls": [control.as_dict() for control in model.controls],
            "aspect_ratios": list(ASPECT_RATIOS),
            "resolutions": [
                {"resolution": variant.resolution, "credits": variant.credits}
                for variant in model.variants
            ],
        }
        for model in MODELS.values()
    ]
