"""What we send to Replicate for a generation: the model, its input and the webhook URL."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from generations import catalog
from generations.models import Generation, requested_fields


def webhook_url(generation: Generation) -> str:
    """Carries our generation id, so a webhook can be matched even before we know its
    prediction id."""
    query = urlencode({"generation": generation.pk})
    return f"{settings.SITE_URL}{reverse('replicate-webhook')}?{query}"


def replicate_model(generation: Generation) -> str:
    return catalog.resolve(
        generation.model_key, generation.resolution, generation.aspect_ratio
    ).replicate_model


def deadline_seconds(generation: Generation) -> int:
    """Replicate's Cancel-After for the generation: the catalog's, unless REPLICATE_CANCEL_AFTER
    overrides it."""
    if settings.REPLICATE_CANCEL_AFTER:
        return settings.REPLICATE_CANCEL_AFTER
    return catalog.get_model(generation.model_key).variant(generation.resolution).deadline_seconds


def prediction_input(
    generation: Generation, file_urls: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """The model's input; `file_urls` has a URL Replicate reads each input file from, by our
    name (image, end_image, video, mask, audio)."""
    fields = requested_fields(generation)
    del fields["operation"]  # ours: the model's input names say what it does
    return catalog.replicate_input(**fields, file_urls=file_urls)


def comparable_input(model_input: Mapping[str, Any]) -> dict[str, Any]:
    """An input as we keep it and compare it: inline files (data URLs, up to 256 KB each) stand
    as their type, size and digest, so the stored copy stays small and readable while the same
    file still compares equal."""
    return {key: _digest_of_data_url(value) for key, value in model_input.items()}


def _digest_of_data_url(value: Any) -> Any:
    if isinstance(value, list):  # an array of files (VACE's reference images)
        return [_digest_of_data_url(item) for item in value]
    if not isinstance(value, str) or not value.startswith("data:"):
        return value
    header, _, data = value.partition(",")
    digest = hashlib.sha256(data.encode()).hexdigest()[:16]
    return f"{header},... ({len(data)} characters, sha256 {digest})"
