"""Outputs of the editing models, made from their inputs so tests can check them:

- an edit (videoedit) or a replace returns the source's frames tinted, with the prompt (or the
  character image) written in; the source's sound is kept when asked (`audio_setting` origin,
  `merge_audio`);
- image-to-video from a first frame starts from that image, and ends on the last frame when one
  is given; from a clip (`first_clip`) it starts from the clip's last frame;
- animate moves the character image for as long as the driving video;
- speech to video lasts as long as its audio track, which it carries;
- VACE changes only the pixels where the mask is white.
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from .clips import Clip
from .video import ken_burns
from .wan_models import WanModel

TINT_STRENGTH = 0.45
# The pixels a mask regenerates: brighter than this (white), as in upstream VACE.
MASK_THRESHOLD = 127


@dataclass(frozen=True)
class Take:
    pictures: list[Image.Image]
    fps: int
    audio: bytes | None  # a file whose first audio stream becomes the output's sound


@dataclass(frozen=True)
class Loaders:
    image: Callable[[str], Image.Image]
    clip: Callable[[str, str], Clip]  # (url, input name)


def make_take(
    model: WanModel,
    model_input: dict[str, Any],
    loaders: Loaders,
    *,
    frames: int,
    fps: int,
    audio: bytes | None,
    audio_seconds: float | None,
) -> Take | None:
    """The output of an editing model, or None for the text and image models (video.py makes
    theirs). Raises InputLoadError for an input it cannot use."""
    prompt = str(model_input.get("prompt", ""))
    if model.task == "edit":
        clip = loaders.clip(model_input["video"], "video")
        pictures = clip.frames
        if isinstance(duration := model_input.get("duration"), int):
            pictures = pictures[: max(round(duration * clip.fps), 1)]
        kept = model_input.get("audio_setting") == "origin" and clip.has_audio
        return Take(_tinted(pictures, prompt), _rate(clip), clip.data if kept else None)
    if model.task == "replace":
        clip = loaders.clip(model_input["video"], "video")
        character = loaders.image(model_input["character_image"])
        pictures = [_with_inset(picture, character) for picture in _tinted(clip.frames, "replace")]
        return Take(pictures, _rate(clip), _merged_sound(model_input, clip))
    if model.task == "animate":
        clip = loaders.clip(model_input["video"], "video")
        character = loaders.image(model_input["character_image"])
        width, height = _even(clip.frames[0].size)
        pictures = list(ken_burns(character, width, height, len(clip.frames)))
        return Take(pictures, _rate(clip), _merged_sound(model_input, clip))
    if model.task == "s2v":
        image = loaders.image(model_input["image"])
        count = max(round((audio_seconds or frames / fps) * fps), 1)
        width, height = _even(_fit(image.size, 832))
        return Take(list(ken_burns(image, width, height, count)), fps, audio)
    if model.task == "vace":
        clip = loaders.clip(model_input["src_video"], "src_video")
        if "src_mask" not in model_input:
            return Take(_tinted(clip.frames, prompt), _rate(clip), None)
        mask = loaders.clip(model_input["src_mask"], "src_mask")
        tinted = _tinted(clip.frames, prompt)
        pictures = [
            _masked(original, changed, mask.frames[index % len(mask.frames)])
            for index, (original, changed) in enumerate(zip(clip.frames, tinted, strict=True))
        ]
        return Take(pictures, _rate(clip), None)
    if model.task == "i2v-2.7":
        if "first_frame" in model_input:
            start = loaders.image(model_input["first_frame"])
        else:
            start = loaders.clip(model_input["first_clip"], "first_clip").frames[-1]
        end_url = model_input.get("last_frame")
        end = loaders.image(end_url) if end_url else None
        width, height = _even(_fit(start.size, 1280))
        return Take(_from_first_to_last(start, end, width, height, frames), fps, audio)
    if model.task == "i2v" and model_input.get("last_image"):
        start = loaders.image(model_input["image"])
        end = loaders.image(model_input["last_image"])
        width, height = _even(_fit(start.size, 832))
        return Take(_from_first_to_last(start, end, width, height, frames), fps, None)
    return None


def _rate(clip: Clip) -> int:
    return max(round(clip.fps), 1)


def _merged_sound(model_input: dict[str, Any], clip: Clip) -> bytes | None:
    return clip.data if model_input.get("merge_audio") is True and clip.has_audio else None


def _tint(prompt: str) -> tuple[int, int, int]:
    hue = hashlib.sha256(prompt.encode()).digest()[0] / 255
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.9, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def _tinted(pictures: list[Image.Image], text: str) -> list[Image.Image]:
    """Each picture blended with the text's colour, the text written in its top left corner."""
    if not pictures:
        return []
    size = _even(pictures[0].size)
    overlay = Image.new("RGB", size, _tint(text))
    font = ImageFont.load_default(size=max(size[1] // 18, 10))
    changed = []
    for picture in pictures:
        blended = Image.blend(picture.resize(size), overlay, TINT_STRENGTH)
        ImageDraw.Draw(blended).text((8, 8), text[:60], font=font, fill="white")
        changed.append(blended)
    return changed


def _with_inset(picture: Image.Image, character: Image.Image) -> Image.Image:
    inset = character.convert("RGB").copy()
    inset.thumbnail((picture.width // 3, picture.height // 3))
    framed = picture.copy()
    framed.paste(inset, (picture.width - inset.width - 8, picture.height - inset.height - 8))
    return framed


def _masked(original: Image.Image, changed: Image.Image, mask: Image.Image) -> Image.Image:
    size = changed.size
    where = mask.convert("L").resize(size).point(lambda v: 255 if v > MASK_THRESHOLD else 0)
    return Image.composite(changed, original.resize(size), where)


def _from_first_to_last(
    start: Image.Image, end: Image.Image | None, width: int, height: int, frames: int
) -> list[Image.Image]:
    """A slow zoom over the first frame (its first picture is the image itself, covered), fading
    into the last frame when there is one, which the final picture shows alone."""
    moving: Iterator[Image.Image] = ken_burns(start, width, height, frames)
    if end is None:
        return list(moving)
    last = end.convert("RGB").resize((width, height))
    pictures = []
    for index, picture in enumerate(moving):
        share = index / max(frames - 1, 1)
        pictures.append(Image.blend(picture, last, share))
    return pictures


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = min(longest / max(width, height), 1.0)
    return max(round(width * scale), 2), max(round(height * scale), 2)


def _even(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    return max(width - width % 2, 2), max(height - height % 2, 2)
