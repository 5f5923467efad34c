"""Fixtures for the REST API tests: API keys, authenticated clients, generations in any state."""

from __future__ import annotations

import io
import secrets

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from PIL import Image
from rest_framework.test import APIClient

from generations.models import Generation, Kind, Status
from tests.browser.conftest import (  # noqa: F401 - the page tests' browser, for test_browser.py
    app,
    browser,
    new_page,
    page,
    playwright,
)
from wan_pwa.accounts.api_keys import create_api_key

PROMPT = "A red fox running through fresh snow at dawn"
T2V = {"model_key": "t2v-1.3B", "resolution": "480p", "aspect_ratio": "16:9", "prompt": PROMPT}


@pytest.fixture(autouse=True)
def fresh_limit_counters(db):
    # The database cache table is not emptied between tests; the limit counters must be.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Users are made in nearly every test here; the real hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_key(user) -> str:
    return create_api_key(user, "tests")[1]


@pytest.fixture
def api(api_key) -> APIClient:
    """A client authenticated as `user` with an API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture
def make_generation():
    """A generation row in any state, without charging: for tests about reading and permissions."""

    def make(user, *, status: str = Status.QUEUED, video: bytes | None = None, **fields):
        if status == Status.SUCCEEDED and video is None:
            video = b"\x00\x00\x00\x18ftypmp42"
        if status not in (Status.QUEUED, Status.FAILED, Status.CANCELED):
            fields.setdefault("prediction_id", secrets.token_hex(8))  # Replicate accepted it
        return Generation.objects.create(
            user=user,
            kind=Kind.TEXT_TO_VIDEO,
            model_key="t2v-1.3B",
            resolution="480p",
            aspect_ratio="16:9",
            prompt=fields.pop("prompt", PROMPT),
            cost=5,
            status=status,
            video=ContentFile(video, name="out.mp4") if video is not None else "",
            **fields,
        )

    return make


def png_bytes(size: tuple[int, int] = (96, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(buffer, format="PNG")
    return buffer.getvalue()
