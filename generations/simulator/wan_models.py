"""The Replicate models the simulator runs, with exactly the inputs each one takes.

The schemas follow `../shared/replicate/MODELS.md`: an input a model does not take, a wrong type,
a value out of range or a missing required input is answered with a 422 naming the field, as
Replicate does, so a catalog that drifts from a model's real schema fails the tests instead of a
user's first job in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .inputs import url_problem

ASPECT_RATIOS = ("16:9", "9:16")
SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {"16:9": (832, 480), "9:16": (480, 832)},
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920)},
}
DEFAULT_STEPS = 30
# Inputs that are files (or arrays of files), given as a data URL or an http(s) URL.
FILE_INPUTS = (
    "image",
    "audio",
    "last_image",
    "video",
    "reference_image",
    "first_frame",
    "last_frame",
    "first_clip",
    "character_image",
    "src_video",
    "src_mask",
    "src_ref_images",
)
# What each model does with its inputs (lifecycle.py and takes.py make the output from them).
Task = Literal["t2v", "i2v", "edit", "i2v-2.7", "animate", "replace", "s2v", "vace"]


@dataclass(frozen=True)
class Input:
    kind: type
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class WanModel:
    task: Task
    resolution: str  # unless the input names one (`resolution` or `size`)
    inputs: Mapping[str, Input]
    # Required inputs (prompt, and image for image-to-video, unless told otherwise).
    required: tuple[str, ...] | None = None
    # At least one of these is required (Wan 2.7 image-to-video: a first frame or a clip).
    one_of: tuple[str, ...] = ()

    @property
    def required_inputs(self) -> tuple[str, ...]:
        if self.required is not None:
            return self.required
        return ("prompt", "image") if self.task == "i2v" else ("prompt",)

    def size(
        self, model_input: Mapping[str, Any], image_size: tuple[int, int] | None
    ) -> tuple[int, int]:
        """Output width and height: the requested size or orientation, else the image's, else
        landscape."""
        if isinstance(size := model_input.get("size"), str) and "*" in size:
            width, height = size.split("*")
            return int(width), int(height)
        sizes = SIZES.get(model_input.get("resolution", ""), SIZES[self.resolution])
        if model_input.get("aspect_ratio") in sizes:
            return sizes[model_input["aspect_ratio"]]
        if image_size and image_size[1] > image_size[0]:
            return sizes["9:16"]
        return sizes["16:9"]


# wan-video/wan-2.1-1.3b (version 121bbb76...).
_WAN_1_3B = {
    "prompt": Input(str),
    "frame_num": Input(int, choices=(17, 33, 49, 65, 81)),
    "resolution": Input(str, choices=("480p",)),
    "aspect_ratio": Input(str, choices=ASPECT_RATIOS),
    "sample_shift": Input(float, minimum=0, maximum=20),
    "sample_steps": Input(int, minimum=10, maximum=50),
    "sample_guide_scale": Input(float, minimum=0, maximum=20),
    "seed": Input(int),
}
# wavespeedai/wan-2.1-t2v-*: the i2v field set without `image` (its ranges are the i2v ones).
_WAVESPEED_T2V = {
    "prompt": Input(str),
    "negative_prompt": Input(str),
    "aspect_ratio": Input(str, choices=ASPECT_RATIOS),
    "fast_mode": Input(str, choices=("Off", "Balanced", "Fast")),
    "seed": Input(int),
    "sample_guide_scale": Input(float, minimum=1, maximum=10),
    "sample_steps": Input(int, minimum=1, maximum=40),
    "sample_shift": Input(int, minimum=0, maximum=10),
    "lora_weights": Input(str),
    "lora_scale": Input(float, minimum=0, maximum=4),
    "disable_safety_checker": Input(bool),
}
_WAVESPEED_I2V = {**_WAVESPEED_T2V, "image": Input(str)}

# The official Wan 2.2 fast models: field names verified, ranges only where MODELS.md gives them.
_WAN_2_2_I2V_FAST = {
    "prompt": Input(str),
    "image": Input(str),
    "last_image": Input(str),
    "num_frames": Input(int, minimum=81, maximum=121),
    "resolution": Input(str, choices=("480p", "720p")),
    "sample_shift": Input(float),
    "frames_per_second": Input(int, minimum=5, maximum=30),
    "go_fast": Input(bool),
    "interpolate_output": Input(bool),
    "lora_weights_transformer": Input(str),
    "lora_scale_transformer": Input(float),
    "lora_weights_transformer_2": Input(str),
    "lora_scale_transformer_2": Input(float),
    "seed": Input(int),
    "disable_safety_checker": Input(bool),
}
_WAN_2_2_T2V_FAST = {
    **{name: spec for name, spec in _WAN_2_2_I2V_FAST.items() if "image" not in name},
    "aspect_ratio": Input(str, choices=ASPECT_RATIOS),
    "optimize_prompt": Input(bool),
}


def _wan_2_5(*resolutions: str, task: Literal["t2v", "i2v"]) -> dict[str, Input]:
    common = {
        "prompt": Input(str),
        "negative_prompt": Input(str),
        "duration": Input(int, choices=(5, 10)),
        "audio": Input(str),
        "enable_prompt_expansion": Input(bool),
        "seed": Input(int),
    }
    if task == "i2v":
        return {**common, "image": Input(str), "resolution": Input(str, choices=resolutions)}
    sizes = tuple(
        f"{width}*{height}"
        for resolution in resolutions
        for width, height in SIZES[resolution].values()
    )
    return {**common, "size": Input(str, choices=sizes)}


# The editing models (EDITING-MODELS.md), with every field it lists for the model.
SEED = Input(int, minimum=0, maximum=2**31 - 1)
_WAN_2_7_VIDEOEDIT = {
    "video": Input(str),
    "prompt": Input(str),
    "reference_image": Input(str),
    "resolution": Input(str, choices=("720p", "1080p")),
    "aspect_ratio": Input(str, choices=("auto", "16:9", "9:16", "1:1", "4:3", "3:4")),
    "duration": Input(int, minimum=2, maximum=10),
    "audio_setting": Input(str, choices=("auto", "origin")),
    "seed": SEED,
}
_WAN_2_7_I2V = {
    "first_frame": Input(str),
    "last_frame": Input(str),
    "first_clip": Input(str),
    "audio": Input(str),
    "prompt": Input(str),
    "negative_prompt": Input(str),
    "resolution": Input(str, choices=("720p", "1080p")),
    "duration": Input(int, minimum=2, maximum=15),
    "enable_prompt_expansion": Input(bool),
    "seed": SEED,
}
_ANIMATE_RESOLUTIONS = ("720", "480")
_WAN_2_2_ANIMATE = {
    "video": Input(str),
    "character_image": Input(str),
    "resolution": Input(str, choices=_ANIMATE_RESOLUTIONS),
    "frames_per_second": Input(int),
    "go_fast": Input(bool),
    "seed": Input(int),
    "merge_audio": Input(bool),
}
_WAN_2_2_REPLACE = {
    **_WAN_2_2_ANIMATE,
    "frames_per_second": Input(int, minimum=5, maximum=60),
    "refert_num": Input(int, choices=(1, 5)),
}
_WAN_2_2_S2V = {
    "prompt": Input(str),
    "image": Input(str),
    "audio": Input(str),
    "num_frames_per_chunk": Input(int, minimum=1, maximum=121),
    "seed": Input(int),
}
VACE_SPEED_MODES = (
    "Lightly Juiced \N{TANGERINE} (more consistent)",
    "Juiced \N{FIRE} (more speed)",
    "Extra Juiced \N{ROCKET} (even more speed)",
)
_VACE = {
    "prompt": Input(str),
    "src_video": Input(str),
    "src_mask": Input(str),
    "src_ref_images": Input(list),
    "size": Input(str, choices=("832*480", "480*832", "1280*720", "720*1280")),
    "frame_num": Input(int),
    "speed_mode": Input(str, choices=VACE_SPEED_MODES),
    "sample_steps": Input(int),
    "sample_solver": Input(str),
    "sample_guide_scale": Input(float),
    "sample_shift": Input(int),
    "seed": Input(int),
}

MODELS: dict[str, WanModel] = {
    "wan-video/wan-2.1-1.3b": WanModel("t2v", "480p", _WAN_1_3B),
    "wavespeedai/wan-2.1-t2v-480p": WanModel("t2v", "480p", _WAVESPEED_T2V),
    "wavespeedai/wan-2.1-t2v-720p": WanModel("t2v", "720p", _WAVESPEED_T2V),
    "wavespeedai/wan-2.1-i2v-480p": WanModel("i2v", "480p", _WAVESPEED_I2V),
    "wavespeedai/wan-2.1-i2v-720p": WanModel("i2v", "720p", _WAVESPEED_I2V),
    "wan-video/wan-2.2-t2v-fast": WanModel("t2v", "480p", _WAN_2_2_T2V_FAST),
    "wan-video/wan-2.2-i2v-fast": WanModel("i2v", "480p", _WAN_2_2_I2V_FAST),
    "wan-video/wan-2.5-t2v": WanModel("t2v", "720p", _wan_2_5("480p", "720p", "1080p", task="t2v")),
    "wan-video/wan-2.5-t2v-fast": WanModel("t2v", "720p", _wan_2_5("720p", "1080p", task="t2v")),
    "wan-video/wan-2.5-i2v": WanModel("i2v", "720p", _wan_2_5("480p", "720p", "1080p", task="i2v")),
    "wan-video/wan-2.5-i2v-fast": WanModel("i2v", "720p", _wan_2_5("720p", "1080p", task="i2v")),
    "wan-video/wan-2.7-videoedit": WanModel(
        "edit", "720p", _WAN_2_7_VIDEOEDIT, required=("video", "prompt")
    ),
    "wan-video/wan-2.7-i2v": WanModel(
        "i2v-2.7", "720p", _WAN_2_7_I2V, required=(), one_of=("first_frame", "first_clip")
    ),
    "wan-video/wan-2.2-animate-animation": WanModel(
        "animate", "720p", _WAN_2_2_ANIMATE, required=("video", "character_image")
    ),
    "wan-video/wan-2.2-animate-replace": WanModel(
        "replace", "720p", _WAN_2_2_REPLACE, required=("video", "character_image")
    ),
    "wan-video/wan-2.2-s2v": WanModel(
        "s2v", "480p", _WAN_2_2_S2V, required=("prompt", "image", "audio")
    ),
    "prunaai/vace-14b": WanModel("vace", "480p", _VACE),
}


def invalid_fields(model: WanModel, model_input: Mapping[str, Any]) -> list[dict[str, str]]:
    """Replicate-style `invalid_fields` entries; empty when the input is acceptable."""
    problems: list[dict[str, str]] = []
    missing = {
        name
        for name in model.required_inputs
        if not isinstance(model_input.get(name), str) or not model_input[name].strip()
    }
    problems.extend(_problem("required", name, f"{name} is required") for name in sorted(missing))
    if model.one_of and not any(model_input.get(name) for name in model.one_of):
        names = " or ".join(model.one_of)
        problems.append(_problem("required", model.one_of[0], f"{names} is required"))
    problems.extend(
        _problem("additional_property", name, f"{name} is not an input of this model")
        for name in sorted(set(model_input) - set(model.inputs))
    )
    for name, spec in model.inputs.items():
        if name in missing or name not in model_input:
            continue
        if message := _value_problem(name, spec, model_input[name]):
            problems.append(_problem("invalid", name, message))
    for name in FILE_INPUTS:
        value = model_input.get(name)
        if name not in model.inputs or name in missing:
            continue
        # Else a type problem, reported above.
        urls = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for url in urls:
            message = url_problem(name, url) if isinstance(url, str) else f"{name} must be URLs"
            if message:
                problems.append(_problem("invalid", name, message))
                break
    return problems


def _value_problem(name: str, spec: Input, value: Any) -> str | None:
    # bool is an int subclass in Python but not a JSON integer or number.
    if (isinstance(value, bool) and spec.kind is not bool) or not isinstance(
        value, _json_types(spec.kind)
    ):
        return f"{name} must be of type {spec.kind.__name__}"
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(
            f'"{choice}"' if isinstance(choice, str) else str(choice) for choice in spec.choices
        )
        return f"{name} must be one of the following: {allowed}"
    if isinstance(value, int | float):  # the bounds of integer and number inputs
        if spec.minimum is not None and value < spec.minimum:
            return f"{name} must be greater than or equal to {spec.minimum}"
        if spec.maximum is not None and value > spec.maximum:
            return f"{name} must be less than or equal to {spec.maximum}"
    return None


def _json_types(kind: type) -> tuple[type, ...]:
    return (int, float) if kind is float else (kind,)


def _problem(kind: str, field: str, description: str) -> dict[str, str]:
    return {"type": kind, "field": f"input.{field}", "description": description}
