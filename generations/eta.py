"""When an in-flight generation will be ready: an estimate from how long recent generations of the
same model, resolution and clip length took, refined by the generation's own progress.

The history is read with one indexed query (the newest succeeded rows of that model and
resolution) and kept per process for a short while, so polling cards cost nothing extra.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from django.db.models import QuerySet
from django.utils import timezone

from generations.models import Generation, Status

# How many recent completions make the typical timings, and how long a process reuses them.
HISTORY_SIZE = 20
CACHE_SECONDS = 30.0
# Below this progress the rate of the generation itself says too little to extrapolate.
MIN_PROGRESS = 5


@dataclass(frozen=True)
class Timings:
    """Median seconds of recent generations: waiting (created to started) and running."""

    wait: float
    run: float


# The advanced settings that set a clip's length (generations.controls): a longer clip takes
# longer, so the history is of the same length when there is one.
LENGTH_OPTIONS = ("duration", "frame_num")

Length = tuple[tuple[str, object], ...]

_cache: dict[tuple[str, str, Length], tuple[float, Timings | None]] = {}


def clear_cache() -> None:
    _cache.clear()


def length_of(generation: Generation) -> Length:
    options = generation.options or {}
    return tuple((name, options[name]) for name in LENGTH_OPTIONS if name in options)


def typical_timings(model_key: str, resolution: str, length: Length = ()) -> Timings | None:
    """From successes of this model, resolution and clip length; of any length when none has
    that length yet; None when no generation of this model and resolution has succeeded."""
    key = (model_key, resolution, length)
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    same_kind = Generation.objects.filter(
        status=Status.SUCCEEDED,
        model_key=model_key,
        resolution=resolution,
        started_at__isnull=False,
        completed_at__isnull=False,
    )
    rows = _recent(same_kind.filter(**{f"options__{name}": value for name, value in length}))
    if not rows and length:
        rows = _recent(same_kind)
    timings = None
    if rows:
        timings = Timings(
            wait=median(max((s - c).total_seconds(), 0.0) for c, s, _ in rows),
            run=median(max((e - s).total_seconds(), 0.0) for _, s, e in rows),
        )
    _cache[key] = (time.monotonic() + CACHE_SECONDS, timings)
    return timings


def _recent(successes: QuerySet[Generation]) -> list[tuple[datetime, datetime, datetime]]:
    rows = successes.order_by("-completed_at").values_list(
        "created_at", "started_at", "completed_at"
    )[:HISTORY_SIZE]
    # Both are filtered non-null; this tells the type checker.
    return [(c, s, e) for c, s, e in rows if s is not None and e is not None]


def remaining_seconds(generation: Generation, now: datetime | None = None) -> int | None:
    """Seconds until the generation is likely ready; None when it has ended or nothing is known.

    Before it starts: the typical wait left plus the typical run. Running: the typical run left
    and the generation's own pace (elapsed / progress), blended by its progress, since the
    further it is, the better its own pace predicts the rest.
    """
    if not generation.is_in_flight:
        return None
    now = now or timezone.now()
    timings = typical_timings(generation.model_key, generation.resolution, length_of(generation))
    if generation.started_at is None:
        if timings is None:
            return None
        waited = (now - generation.created_at).total_seconds()
        return math.ceil(max(timings.wait - waited, 0.0) + timings.run)
    elapsed = max((now - generation.started_at).total_seconds(), 0.0)
    from_history = max(timings.run - elapsed, 0.0) if timings else None
    progress = generation.progress
    own_pace = elapsed * (100 - progress) / progress if progress >= MIN_PROGRESS else None
    if own_pace is None:
        return None if from_history is None else math.ceil(from_history)
    if from_history is None:
        return math.ceil(own_pace)
    weight = progress / 100
    return math.ceil(weight * own_pace + (1 - weight) * from_history)


def minutes_shown(seconds: int | None) -> int | None:
    """The whole minutes a page shows (coarse on purpose: it changes seldom between polls)."""
    return None if seconds is None else math.ceil(seconds / 60)


def label(seconds: int | None) -> str:
    minutes = minutes_shown(seconds)
    if minutes is None:
        return ""
    if minutes <= 1:
        return "Ready in less than a minute"
    return f"Ready in about {minutes} min"
