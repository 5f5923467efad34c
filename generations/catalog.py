"""The model catalog: the only source of what can be generated and what it costs.

Each entry maps our parameters onto the input names of the Replicate model that runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    # Input names differ per Replicate model (MODELS.md): 1.3B takes a frame count and its one
    # resolution and has no negative prompt; the wavespeed models take neither frames nor size.
    input_style: str  # "wan-1.3b" or "wavespeed"

    @property
    def takes_negative_prompt(self) -> bool:
        return self.input_style != "wan-1.3b"

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


FRAMES = 81  # Wan 2.1's native clip: 81 frames at 16 fps, about five seconds.

MODELS: dict[str, CatalogModel] = {
    model.key: model
    for model in (
        CatalogModel(
            key="t2v-1.3B",
            label="Wan 2.1 text-to-video 1.3B",
            kind="t2v",
            variants=(Variant("480p", 5, "wan-video/wan-2.1-1.3b", typical_run_seconds=40),),
            input_style="wan-1.3b",
        ),
        CatalogModel(
            key="t2v-14B",
            label="Wan 2.1 text-to-video 14B",
            kind="t2v",
            variants=(
                Variant("480p", 10, "wavespeedai/wan-2.1-t2v-480p", typical_run_seconds=60),
                Variant("720p", 20, "wavespeedai/wan-2.1-t2v-720p", typical_run_seconds=180),
            ),
            input_style="wavespeed",
        ),
        CatalogModel(
            key="i2v-14B",
            label="Wan 2.1 image-to-video 14B",
            kind="i2v",
            variants=(
                Variant("480p", 10, "wavespeedai/wan-2.1-i2v-480p", typical_run_seconds=60),
                Variant("720p", 20, "wavespeedai/wan-2.1-i2v-720p", typical_run_seconds=180),
            ),
            input_style="wavespeed",
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
    image_url: str | None = None,
) -> dict[str, Any]:
    """Our parameters under the input names of the Replicate model that runs them."""
    model = get_model(model_key)
    data: dict[str, Any] = {"prompt": prompt, "aspect_ratio": aspect_ratio}
    if model.input_style == "wan-1.3b":
        data["frame_num"] = FRAMES
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
            "aspect_ratios": list(ASPECT_RATIOS),
            "resolutions": [
                {"resolution": variant.resolution, "credits": variant.credits}
                for variant in model.variants
            ],
        }
        for model in MODELS.values()
    ]
