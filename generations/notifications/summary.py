"""What one message says about the generations it covers ("3 videos are ready")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import truncatechars
from django.urls import reverse

from generations.models import Generation, Status


@dataclass(frozen=True)
class Summary:
    title: str
    body: str
    url: str  # absolute: the video, or the history for several
    lines: tuple[str, ...]  # one per generation, with its link (for e-mail)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many.format(count=count)


def _line(generation: Generation) -> str:
    outcome = "ready" if generation.status == Status.SUCCEEDED else "failed"
    link = _absolute(reverse("detail", args=[generation.pk]))
    return f"#{generation.pk} {truncatechars(generation.prompt, 60)} ({outcome}): {link}"


def summarize(generations: Sequence[Generation]) -> Summary:
    ready = [g for g in generations if g.status == Status.SUCCEEDED]
    failed = [g for g in generations if g.status != Status.SUCCEEDED]
    lines = tuple(_line(g) for g in generations)
    if len(generations) == 1:
        (only,) = generations
        url = _absolute(reverse("detail", args=[only.pk]))
        prompt = truncatechars(only.prompt, 80)
        if ready:
            return Summary("Your video is ready", prompt, url, lines)
        reason = only.error_message or "The model reported a failure."
        body = f"{prompt}: {reason} Its {only.cost} credits were refunded."
        return Summary("Your video could not be made", body, url, lines)
    parts = []
    if ready:
        parts.append(_plural(len(ready), "1 video is ready", "{count} videos are ready"))
    if failed:
        parts.append(
            _plural(len(failed), "1 failed", "{count} failed")
            if ready
            else _plural(len(failed), "1 video failed", "{count} videos failed")
        )
    title = ", ".join(parts)
    body = "Failed ones were refunded." if failed else "Open your history to watch them."
    return Summary(title, body, _absolute(reverse("history")), lines)
