"""Identifiers and timestamps in Replicate's formats."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime


def new_id() -> str:
    """26 lowercase base32 characters, like Replicate's `gm3qorzdhgbfurvjtvhg6dckhu`."""
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()[:26]


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """ISO 8601 with microseconds and a Z, as Replicate writes them."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
