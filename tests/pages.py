"""What the page tests send with their requests and how they read the answers."""

from __future__ import annotations

import re
from typing import Any

HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}  # what htmx adds to the requests it sends


def found(pattern: str, page: str, flags: int = 0) -> re.Match[str]:
    """The first match of `pattern` in `page`; fails the test when there is none."""
    match = re.search(pattern, page, flags)
    assert match is not None, f"{pattern!r} is not in the page"
    return match
