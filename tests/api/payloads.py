"""Request bodies the API tests send."""

from __future__ import annotations

from tests.factories import PROMPT

T2V = {"model_key": "t2v-1.3B", "resolution": "480p", "aspect_ratio": "16:9", "prompt": PROMPT}
# Every scope a key can have, in the order the Settings page lists them (the contract's four).
EVERY_SCOPE = ["generations:read", "generations:write", "credits:read", "billing"]
