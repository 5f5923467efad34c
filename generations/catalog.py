"""The model catalog: the only source of what can be generated and what it costs.

Each entry maps our parameters onto the input names of the Replicate model that runs it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings

from generations.controls import Control, Value, replicate_inputs
from generations.operations import Operation

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
    # Credits per run, or per native clip (five seconds) for a model priced by length.
    credits: int
    replicate_model: str
    typical_run_seconds: int  # on Replicate, once started
    # Billed by run time (not by output): the deadline caps the run, so `credits` cover
    # this many seconds at the model's hardware rate whatever happens.
    billed_seconds_cap: int | None = None

    @property
    def deadline_seconds(self) -> int:
        if self.billed_seconds_cap is not None:
            return self.billed_seconds_cap
        return self.typical_run_seconds * DEADLINE_RUN_FACTOR + DEADLINE_QUEUE_MARGIN


# Our names of input files, each a field of the API and a file stored on the generation.
FileName = Literal["image", "end_image", "video", "mask", "audio"]


@dataclass(frozen=True)
class FileInput:
    """An input file a model takes: ours by name, sent under the Replicate model's input name
    as a URL (a one-item array when `as_list`)."""

    name: FileName
    input_name: str
    required: bool = False
    as_list: bool = False


IMAGE = FileInput("image", "image", required=True)
AUDIO = FileInput("audio", "audio")


@dataclass(frozen=True)
class SourceLimits:
    """What a model accepts as a source video (an upload or a generation), checked by decoding
    it (generations/source_videos.py)."""

    min_seconds: float
    max_seconds: float
    max_bytes: int = 100 * 1024 * 1024
    min_side: int = 240
    max_side: int = 4096
    max_pixels: int = 3840 * 2160


@dataclass(frozen=True)
class AudioLimits:
    """What a model accepts as an audio track (a WAV or MP3), checked by decoding it
    (generations/audio.py)."""

    min_seconds: int
    max_seconds: int
    max_bytes: int = 15 * 1024 * 1024


# Wan 2.5's audio track on Replicate (MODELS.md): 3 to 30 seconds, at most 15 MB.
TRACK_LIMITS = AudioLimits(min_seconds=3, max_seconds=30)


# The source of an operation that keeps it whole beside the result (Extend joins the new clip
# after it) when the model itself takes no video.
JOINED_SOURCE_LIMITS = SourceLimits(min_seconds=1, max_seconds=30)

# How sure we are of each input's name and range (EDITING-MODELS.md): A seen on Replicate's own
# pages, B from code that calls Replicate, C from other vendors' docs, D inferred.
Confidence = Literal["A", "B", "B-", "C", "D"]
VERIFIED: frozenset[str] = frozenset({"A"})


@dataclass(frozen=True)
class CatalogModel:
    key: str
    label: str
    kind: str  # "t2v", "i2v" or "v2v"
    variants: tuple[Variant, ...]
    # What the Replicate model takes besides prompt, seed and files (MODELS.md,
    # EDITING-MODELS.md).
    controls: tuple[Control, ...]
    takes_negative_prompt: bool
    sends_resolution: bool  # the wavespeed models are one Replicate model per resolution
    # How the orientation is sent: an aspect ratio, a `size` in pixels (2.5 text-to-video), or
    # not at all (the 2.2 and 2.5 image-to-video models follow the image).
    orientation_input: Literal["aspect_ratio", "size", ""] = "aspect_ratio"
    # PRICE RULE, one per model: per second of output (`priced_by_length`: the variant's
    # credits are per native clip of five seconds, scaled by the output's length and rounded
    # up), or per run (the variant's credits; with `billed_seconds_cap` when Replicate bills
    # the model by run time).
    priced_by_length: bool = False
    # The input files it takes (an optional audio track: generations/audio.py has its limits).
    files: tuple[FileInput, ...] = ()
    operations: tuple[Operation, ...] = (Operation.CREATE,)
    takes_prompt: bool = True
    # What `resolution` is sent as, when the model spells it otherwise ("720" for "720p").
    resolution_values: Mapping[str, str] = field(default_factory=dict)
    # The source video it accepts (None: it takes none).
    source_limits: SourceLimits | None = None
    # The audio track it accepts, when it takes one.
    audio_limits: AudioLimits = TRACK_LIMITS
    # The input whose length the output takes when no length is chosen.
    length_follows: Literal["", "video", "audio"] = ""
    # Confidence marks by Replicate input name, and "price" (omitted: A, from MODELS.md).
    confidence: Mapping[str, Confidence] = field(default_factory=dict)

    def output_seconds(self, options: Mapping[str, Any], input_seconds: float | None) -> float:
        """The video's length in seconds for these options (as typed or cleaned), or the
        length of the input it follows. ValueError for a length the model does not offer."""
        for control in self.controls:
            if control.name in ("duration", "frame_num"):
                chosen = options.get(control.name) or control.default
                if chosen is None:
                    continue
                value = control.clean(chosen)
                assert isinstance(value, int | float)  # both are numeric choices
                if control.name == "frame_num":
                    return value * CLIP_SECONDS / CLIP_FRAMES
                return value
        if self.length_follows and input_seconds:
            return input_seconds
        return CLIP_SECONDS

    def clip_units(self, options: Mapping[str, Any], input_seconds: float | None = None) -> float:
        """The video's length in native clips (five seconds, or 81 frames)."""
        return self.output_seconds(options, input_seconds) / CLIP_SECONDS

    def cost(
        self, resolution: str, options: Mapping[str, Any], input_seconds: float | None = None
    ) -> int:
        """Credits for one run: `input_seconds` is the length of the input the output
        follows (`length_follows`), when there is one."""
        credits = self.variant(resolution).credits
        if not self.priced_by_length:
            return credits
        # Rounded to the millisecond first, so 5.0000001 s of decoded video is not a 6th second.
        return math.ceil(round(credits * self.clip_units(options, input_seconds), 3))

    def file(self, name: str) -> FileInput | None:
        return next((each for each in self.files if each.name == name), None)

    def takes(self, name: str) -> bool:
        return self.file(name) is not None

    def requires(self, name: str) -> bool:
        return (found := self.file(name)) is not None and found.required

    @property
    def takes_audio(self) -> bool:
        return self.takes("audio")

    @property
    def creates(self) -> bool:
        """Offered on the create page (the others make takes of a source)."""
        return Operation.CREATE in self.operations

    @property
    def unverified(self) -> dict[str, str]:
        """The inputs (and "price") not seen on Replicate's own pages, with their marks."""
        return {name: mark for name, mark in self.confidence.items() if mark not in VERIFIED}

    @property
    def is_ready(self) -> bool:
        """Offered now: DISABLED_MODELS, read at each request, turns a model off without a
        deploy (when check_models finds its schema moved, or its price is not checked)."""
        return self.key not in settings.DISABLED_MODELS

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(variant.resolution for variant in self.variants)

    @property
    def needs_image(self) -> bool:
        return self.requires("image")

    def sent_resolution(self, resolution: str) -> str:
        return self.resolution_values.get(resolution, resolution)

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

# An image-to-video model also extends a video: its last frame is the image (the new clip is
# joined after the source).
I2V_OPERATIONS = (Operation.CREATE, Operation.EXTEND)

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
        files=(IMAGE, AUDIO) if kind == "i2v" else (AUDIO,),
        operations=I2V_OPERATIONS if kind == "i2v" else (Operation.CREATE,),
    )


# The editing models (EDITING-MODELS.md): each makes a take of a source, or (Wan 2.7
# image-to-video) creates with a first and last frame and continues a clip. A credit stands for
# about $0.025 as above.
SECOND_CREDITS_PER_CLIP = {  # credits per five seconds for a price per second of output
    0.02: 4,  # $0.02/s
    0.05: 10,
    0.10: 20,
    0.16: 32,
}
# Models billed by run time: the price covers the deadline at the model's rate, and the deadline
# (Replicate's Cancel-After, counted from creation) ends any longer run.
ANIMATE_RUN_CAP = 600  # ~$3 per 1,000 run-seconds (C): $1.80, 72 credits; one run took ~300 s
VACE_RUN_CAP = 600  # an H100's ~$0.0015/s (D, no published rate): $0.92, 40 credits
ANIMATE_REPLACE = "wan-video/wan-2.2-animate-replace"
RESOLUTION_WITHOUT_P = {"480p": "480", "720p": "720"}
EDIT_CONTROLS = (
    # Unset: the whole source (the output follows it); a value N keeps its first N seconds.
    Control("duration", "duration", "choice", None, choices=tuple(range(2, 11))),
    Control("audio_setting", "audio_setting", "choice", "auto", choices=("auto", "origin")),
)
WAN_2_7_I2V_CONTROLS = (
    Control("duration", "duration", "choice", 5, choices=tuple(range(2, 16)), always_sent=True),
    Control("prompt_expansion", "enable_prompt_expansion", "boolean"),
)
ANIMATE_CONTROLS = (
    Control("go_fast", "go_fast", "boolean", True),
    Control("merge_audio", "merge_audio", "boolean", False),
)
# The two versions on Replicate disagree on these defaults (EDITING-MODELS.md): none is shown.
REPLACE_CONTROLS = (
    Control("go_fast", "go_fast", "boolean"),
    Control("merge_audio", "merge_audio", "boolean"),
)
EDITING_MODELS = (
    CatalogModel(
        key="edit-2.7",
        label="Wan 2.7 video edit",
        kind="v2v",
        variants=(
            Variant("720p", SECOND_CREDITS_PER_CLIP[0.10], "wan-video/wan-2.7-videoedit", 90),
            Variant("1080p", SECOND_CREDITS_PER_CLIP[0.10], "wan-video/wan-2.7-videoedit", 180),
        ),
        controls=EDIT_CONTROLS,
        takes_negative_prompt=False,
        sends_resolution=True,
        orientation_input="",  # `aspect_ratio` left at auto: the source's
        priced_by_length=True,
        files=(
            FileInput("video", "video", required=True),
            FileInput("image", "reference_image"),
        ),
        operations=(Operation.EDIT,),
        source_limits=SourceLimits(min_seconds=2, max_seconds=10),
        length_follows="video",
        confidence={
            "video": "B",
            "prompt": "B",
            "reference_image": "B",
            "resolution": "B",
            "duration": "B",
            "audio_setting": "B",
            "seed": "C",
            "price": "B",
        },
    ),
    CatalogModel(
        key="i2v-2.7",
        label="Wan 2.7 image-to-video",
        kind="i2v",
        variants=(
            Variant("720p", SECOND_CREDITS_PER_CLIP[0.10], "wan-video/wan-2.7-i2v", 120),
            # No public 1080p rate: priced as Wan 2.5's 1080p until one is seen.
            Variant("1080p", SECOND_CREDITS_PER_CLIP[0.16], "wan-video/wan-2.7-i2v", 240),
        ),
        controls=WAN_2_7_I2V_CONTROLS,
        takes_negative_prompt=True,
        sends_resolution=True,
        orientation_input="",
        priced_by_length=True,
        # Its driving `audio` (B) is not offered: one developer found it silent, and Alibaba
        # forbids it with a clip (C).
        files=(
            FileInput("image", "first_frame", required=True),
            FileInput("end_image", "last_frame"),
        ),
        operations=I2V_OPERATIONS,
        confidence={
            "first_frame": "B",
            "last_frame": "B",
            # Continuing the clip itself: offered for Extend only once verified.
            "first_clip": "B-",
            "audio": "B",
            "prompt": "B",
            "negative_prompt": "B",
            "resolution": "B",
            "duration": "B",
            "enable_prompt_expansion": "B",
            "seed": "B",
            "price": "B",
        },
    ),
    CatalogModel(
        key="animate-2.2",
        label="Wan 2.2 animate a character",
        kind="v2v",
        variants=tuple(
            Variant(
                resolution,
                72,
                "wan-video/wan-2.2-animate-animation",
                300,
                billed_seconds_cap=ANIMATE_RUN_CAP,
            )
            for resolution in ("480p", "720p")
        ),
        controls=ANIMATE_CONTROLS,
        takes_negative_prompt=False,
        sends_resolution=True,
        orientation_input="",
        files=(
            FileInput("video", "video", required=True),
            FileInput("image", "character_image", required=True),
        ),
        operations=(Operation.ANIMATE,),
        takes_prompt=False,
        resolution_values=RESOLUTION_WITHOUT_P,
        source_limits=SourceLimits(min_seconds=2, max_seconds=30),
        confidence={"price": "C"},
    ),
    CatalogModel(
        key="replace-2.2",
        label="Wan 2.2 replace a person",
        kind="v2v",
        variants=(
            Variant("480p", SECOND_CREDITS_PER_CLIP[0.02], ANIMATE_REPLACE, 120),
            Variant("720p", SECOND_CREDITS_PER_CLIP[0.05], ANIMATE_REPLACE, 240),
        ),
        controls=REPLACE_CONTROLS,
        takes_negative_prompt=False,
        sends_resolution=True,
        orientation_input="",
        priced_by_length=True,
        files=(
            FileInput("video", "video", required=True),
            FileInput("image", "character_image", required=True),
        ),
        operations=(Operation.REPLACE,),
        takes_prompt=False,
        resolution_values=RESOLUTION_WITHOUT_P,
        # No cap in the schema; one app quotes 2 to 60 s (D): we keep to 30.
        source_limits=SourceLimits(min_seconds=2, max_seconds=30),
        length_follows="video",
        confidence={"go_fast": "B", "merge_audio": "B", "price": "B-"},
    ),
    CatalogModel(
        key="s2v-2.2",
        label="Wan 2.2 talking portrait",
        kind="i2v",
        # Its run grows with the track: a 60 s one gets a deadline of 3 x 300 s + 300 s.
        variants=(Variant("480p", SECOND_CREDITS_PER_CLIP[0.02], "wan-video/wan-2.2-s2v", 300),),
        controls=(),
        takes_negative_prompt=False,
        sends_resolution=False,
        orientation_input="",
        priced_by_length=True,
        files=(IMAGE, FileInput("audio", "audio", required=True)),
        operations=(Operation.SPEAK,),
        length_follows="audio",
        # No cap in the schema; one app caps its input at 60 s (D).
        audio_limits=AudioLimits(min_seconds=2, max_seconds=60),
        confidence={"audio_length": "D"},
    ),
    CatalogModel(
        key="vace-14B",
        label="Wan VACE 14B region edit",
        kind="v2v",
        variants=tuple(
            Variant(resolution, 40, "prunaai/vace-14b", 300, billed_seconds_cap=VACE_RUN_CAP)
            for resolution in ("480p", "720p")
        ),
        controls=(),
        takes_negative_prompt=False,
        sends_resolution=False,
        orientation_input="size",
        files=(
            FileInput("video", "src_video", required=True),
            FileInput("mask", "src_mask", required=True),
            FileInput("image", "src_ref_images", as_list=True),
        ),
        operations=(Operation.REGION,),
        source_limits=SourceLimits(min_seconds=1, max_seconds=10),
        # White regenerates, black keeps: upstream VACE's rule, not stated on Replicate (D).
        confidence={"src_mask": "D", "price": "D"},
    ),
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
            files=(IMAGE,),
            operations=I2V_OPERATIONS,
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
            # First and last frame: `last_image` conditions the end frame (A).
            files=(IMAGE, FileInput("end_image", "last_image")),
            operations=I2V_OPERATIONS,
        ),
        *(wan_2_5(kind, fast=fast) for kind in ("t2v", "i2v") for fast in (False, True)),
        *EDITING_MODELS,
    )
}

AUDIO_MODEL_KEYS = tuple(key for key, model in MODELS.items() if model.takes_audio)
# The cheapest video the create page makes (the low-credit warning, the sign-up bonus's count).
CHEAPEST_COST = min(
    variant.credits for model in MODELS.values() if model.creates for variant in model.variants
)


def _pixels(resolution: str) -> int:
    return int(resolution.removesuffix("p"))


RESOLUTIONS = tuple(
    sorted({variant.resolution for m in MODELS.values() for variant in m.variants}, key=_pixels)
)


def creating_models() -> list[CatalogModel]:
    """The models of the create page (and the landing page's prices); the others make takes."""
    return [model for model in MODELS.values() if model.creates]


def longest_seconds() -> int:
    """The longest video any model makes, in whole seconds (lengths in frames at 16 fps)."""
    lengths = [float(CLIP_SECONDS)]
    for model in creating_models():
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
    """The Wan versions of the create page's models that take an audio track: "Wan 2.5"."""
    return versions(model for model in creating_models() if model.takes_audio)


def summary() -> str:
    """What the service does, in the catalog's terms: for the pages, the manifest and the API."""
    offered = versions(creating_models())
    verb = "turns" if len(_version_numbers(creating_models())) == 1 else "turn"
    largest = max((r for model in creating_models() for r in model.resolutions), key=_pixels)
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


def cost_of(
    model_key: str,
    resolution: str,
    options: Mapping[str, Any] | None = None,
    input_seconds: float | None = None,
) -> int:
    return get_model(model_key).cost(resolution, options or {}, input_seconds)


def cost_or_none(
    model_key: str,
    resolution: str,
    options: Mapping[str, Any] | None = None,
    input_seconds: float | None = None,
) -> int | None:
    """The cost, or None for a model or resolution we do not offer (validation says why)."""
    try:
        return cost_of(model_key, resolution, options, input_seconds)
    except ValueError:  # CatalogError too
        return None


def prices(kind: str) -> list[tuple[str, list[int]]]:
    """Each resolution the models of `kind` offer, with the credits a five-second clip costs,
    cheapest first."""
    credits: dict[str, set[int]] = {}
    for model in creating_models():
        if model.kind == kind:
            for variant in model.variants:
                credits.setdefault(variant.resolution, set()).add(variant.credits)
    by_size = sorted(credits, key=_pixels)
    return [(resolution, sorted(credits[resolution])) for resolution in by_size]


def price_table() -> list[tuple[CatalogModel, list[tuple[str, int]]]]:
    """Each model with what a five-second clip costs at each of its resolutions."""
    return [
        (model, [(variant.resolution, variant.credits) for variant in model.variants])
        for model in creating_models()
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
    file_urls: Mapping[str, str | None] | None = None,
    image_url: str | None = None,
    audio_url: str | None = None,
) -> dict[str, Any]:
    """Our parameters under the input names of the Replicate model that runs them. `file_urls`
    has a URL per input file we have, by our name; a required one is always sent (a missing one
    is the model's error to name), an optional one only when there is one."""
    model = get_model(model_key)
    data: dict[str, Any] = {"prompt": prompt} if model.takes_prompt else {}
    if model.orientation_input == "aspect_ratio":
        data["aspect_ratio"] = aspect_ratio
    elif model.orientation_input == "size":
        data["size"] = SIZES[resolution, aspect_ratio]
    data.update(replicate_inputs(model.controls, options or {}))
    if model.sends_resolution:
        data["resolution"] = model.sent_resolution(resolution)
    if negative_prompt and model.takes_negative_prompt:
        data["negative_prompt"] = negative_prompt
    if seed is not None:
        data["seed"] = seed
    urls = {"image": image_url, "audio": audio_url, **(file_urls or {})}
    for each in model.files:
        url = urls.get(each.name)
        if url or each.required:
            data[each.input_name] = [url] if each.as_list else url
    return data


def as_dict(models: Iterable[CatalogModel] | None = None) -> list[dict[str, Any]]:
    """The catalog (or these of its models) as plain data, for the pages' scripts and the
    API."""
    return [
        {
            "key": model.key,
            "label": model.label,
            "kind": model.kind,
            "needs_image": model.needs_image,
            "takes_audio": model.takes_audio,
            "operations": [str(operation) for operation in model.operations],
            "files": {each.name: each.required for each in model.files},
            "takes_prompt": model.takes_prompt,
            "ready": model.is_ready,
            "source_limits": (
                {
                    "min_seconds": model.source_limits.min_seconds,
                    "max_seconds": model.source_limits.max_seconds,
                    "max_bytes": model.source_limits.max_bytes,
                    "max_pixels": model.source_limits.max_pixels,
                }
                if model.source_limits
                else None
            ),
            "audio_limits": (
                {
                    "min_seconds": model.audio_limits.min_seconds,
                    "max_seconds": model.audio_limits.max_seconds,
                    "max_bytes": model.audio_limits.max_bytes,
                }
                if model.takes_audio
                else None
            ),
            "unverified": model.unverified,
            "takes_negative_prompt": model.takes_negative_prompt,
            "priced_by_length": model.priced_by_length,
            "controls": [control.as_dict() for control in model.controls],
            "aspect_ratios": list(ASPECT_RATIOS),
            "resolutions": [
                {"resolution": variant.resolution, "credits": variant.credits}
                for variant in model.variants
            ],
        }
        for model in (MODELS.values() if models is None else models)
    ]
