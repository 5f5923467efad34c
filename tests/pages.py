"""What the page tests send with their requests and how they read the answers."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import PROMPT

HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}  # what htmx adds to the requests it sends


def found(pattern: str, page: str, flags: int = 0) -> re.Match[str]:
    """The first match of `pattern` in `page`; fails the test when there is none."""
    match = re.search(pattern, page, flags)
    assert match is not None, f"{pattern!r} is not in the page"
    return match


# Every model the catalog offers, written out so that a model added or dropped is noticed: those
# of the create page, and those that only make takes of a source.
CREATING_MODEL_KEYS = {
    "t2v-1.3B",
    "t2v-14B",
    "i2v-14B",
    "t2v-2.2-fast",
    "i2v-2.2-fast",
    "t2v-2.5",
    "t2v-2.5-fast",
    "i2v-2.5",
    "i2v-2.5-fast",
    "i2v-2.7",
}
TAKE_MODEL_KEYS = {"edit-2.7", "animate-2.2", "replace-2.2", "s2v-2.2", "vace-14B"}
ALL_MODEL_KEYS = CREATING_MODEL_KEYS | TAKE_MODEL_KEYS


def create_form(**overrides: Any) -> dict[str, Any]:
    """The create page's fields for a valid text-to-video submission."""
    data = {
        "kind": "t2v",
        "model_key": "t2v-14B",
        "resolution": "480p",
        "aspect_ratio": "16:9",
        "prompt": PROMPT,
        "negative_prompt": "",
        "seed": "",
        "idempotency_key": "key-1",
    }
    return data | overrides
