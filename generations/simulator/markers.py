"""Failure modes chosen per prediction by markers in the prompt, or server-wide by the config.

A marker is a word in square brackets anywhere in the prompt, e.g. "a cat surfing [slow]".
`[create-429x2]` answers the create call with 429 twice for that exact prompt, then accepts it;
without a count (`[create-429]`) it always does.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .config import SimulatorConfig

MARKERS = (
    "fail",  # fails part-way with an error
    "slow",  # runs SLOW_FACTOR times longer
    "hang",  # stops progressing and never finishes until canceled
    "aborted",  # ends `aborted` before it starts, as when a deadline passes in the queue
    "no-webhooks",
    "duplicate-webhooks",  # every webhook sent twice with the same webhook-id
    "out-of-order",  # a stale logs webhook after the completed one
    "moov-last",  # an output MP4 with its index at the end (plays only once fully downloaded)
    "pix-444",  # an output in yuv444p, which many phones cannot play
    # The safety checker rejects the prompt or the image before the run, or the video after it.
    "nsfw-prompt",
    "nsfw-image",
    "nsfw-output",
    "create-429",
    "create-500",
)
SLOW_FACTOR = 4
# The errors the simulator's safety checker ends a prediction with, in the words model checkers
# use ("NSFW content detected ...").
REJECTIONS = {
    "prompt": "NSFW content detected in the prompt. Try a different prompt.",
    "image": "NSFW content detected in the input image. Try a different image.",
    "output": "NSFW content detected in the output video. Try running it again with another seed.",
}
_MARKER = re.compile(r"\[(?P<name>[a-z0-9-]+?)(?:x(?P<times>\d+))?\]", re.IGNORECASE)


def markers(prompt: str) -> dict[str, int | None]:
    """Known markers in the prompt, each with its count (None when it has none)."""
    found: dict[str, int | None] = {}
    for match in _MARKER.finditer(prompt):
        name = match["name"].lower()
        if name in MARKERS:
            found[name] = int(match["times"]) if match["times"] else None
    return found


@dataclass(frozen=True)
class Behaviour:
    fail: bool = False
    slow: bool = False
    hang: bool = False
    aborted: bool = False
    webhooks: bool = True
    duplicate_webhooks: bool = False
    out_of_order: bool = False
    moov_last: bool = False
    pixel_format: str = "yuv420p"
    rejected: str = ""  # "prompt", "image" or "output": what the safety checker rejects

    @classmethod
    def for_prompt(cls, prompt: str, config: SimulatorConfig) -> Behaviour:
        found = markers(prompt)
        return cls(
            fail="fail" in found or random.random() < config.fail_rate,
            slow="slow" in found,
            hang="hang" in found,
            aborted="aborted" in found,
            webhooks="no-webhooks" not in found and not config.no_webhooks,
            duplicate_webhooks="duplicate-webhooks" in found or config.duplicate_webhooks,
            out_of_order="out-of-order" in found or config.out_of_order,
            moov_last="moov-last" in found,
            pixel_format="yuv444p" if "pix-444" in found else "yuv420p",
            rejected=next(
                (part for part in REJECTIONS if f"nsfw-{part}" in found),
                "",
            ),
        )
