"""The generations' hourly counts for the staff dashboard (wan_pwa.analytics): what was
submitted, how it ended, how long it took, why it failed, and what is in flight now."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count as Rows
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.exceptions import ValidationError as ApiValidationError

from credits.actions import CreditDebtOutstanding, InsufficientCredits
from generations.models import IN_FLIGHT_STATUSES, TERMINAL_STATUSES, Generation, Status
from wan_pwa.analytics.counters import count_event
from wan_pwa.analytics.durations import with_bin
from wan_pwa.analytics.rollup import Count, fill, hour_start, per_hour

# Generations end well within a day of their creation (the watchdog fails them past
# GENERATION_MAX_AGE), so "ended in the window" may also say "created a day before it at most",
# which lets the (status, created_at) index do the work on a big table.
LONGEST_LIFE = timedelta(days=1)
ACTIVE_USER_WINDOWS = {"24h": 1, "7d": 7, "30d": 30}


def roll_up() -> str:
    """Periodic job: refreshes the generations' hourly counts."""
    return fill("generations", hourly_counts)


def hourly_counts(start: datetime, end: datetime) -> Iterator[Count]:
    created = per_hour(
        Generation.objects.filter(created_at__gte=start, created_at__lt=end), "created_at"
    )
    for row in created.values("hour", "model_key").annotate(n=Rows("id")):
        yield Count("created", row["model_key"], row["hour"], row["n"])

    ended = ended_between(start, end)
    for row in (
        per_hour(ended, "completed_at").values("hour", "model_key", "status").annotate(n=Rows("id"))
    ):
        yield Count("ended", f"{row['model_key']}:{row['status']}", row["hour"], row["n"])

    succeeded = with_bin(ended.filter(status=Status.SUCCEEDED), "created_at", "completed_at")
    for row in per_hour(succeeded, "completed_at").values("hour", "bin").annotate(n=Rows("id")):
        yield Count("completion_seconds", str(row["bin"]), row["hour"], row["n"])

    # By the stable code, so rewording a sentence never splits or merges the groups.
    failed = per_hour(ended.filter(status=Status.FAILED), "completed_at")
    for row in failed.values("hour", "failure_reason").annotate(n=Rows("id")):
        yield Count("failure_reason", row["failure_reason"], row["hour"], row["n"])

    started = with_bin(
        Generation.objects.filter(
            created_at__gte=start - LONGEST_LIFE, started_at__gte=start, started_at__lt=end
        ),
        "created_at",
        "started_at",
    )
    for row in per_hour(started, "started_at").values("hour", "bin").annotate(n=Rows("id")):
        yield Count("starting_seconds", str(row["bin"]), row["hour"], row["n"])

    now = timezone.now()
    # Gauges, as of this run: users who submitted in the last day, week, month (a distinct count
    # cannot be summed from hours, so it is taken whole).
    for label, days in ACTIVE_USER_WINDOWS.items():
        recent = Generation.objects.filter(created_at__gte=now - timedelta(days=days))
        users = recent.values("user_id").distinct().count()
        yield Count("active_users", label, hour_start(now), users)
    in_flight = Generation.objects.filter(status__in=IN_FLIGHT_STATUSES)
    for row in in_flight.values("status").annotate(n=Rows("id")):
        yield Count("in_flight", row["status"], hour_start(now), row["n"])


def ended_between(start: datetime, end: datetime | None = None) -> QuerySet[Generation]:
    """Generations that ended from `start` to `end` (or now)."""
    ended = Generation.objects.filter(
        status__in=TERMINAL_STATUSES,
        created_at__gte=start - LONGEST_LIFE,
        completed_at__gte=start,
    )
    return ended if end is None else ended.filter(completed_at__lt=end)


def ended_since(start: datetime) -> Iterator[tuple[str, int]]:
    """The `ended` count from `start` on, by its `model:status` dimension (for /metrics)."""
    for row in ended_between(start).values("model_key", "status").annotate(n=Rows("id")):
        yield f"{row['model_key']}:{row['status']}", row["n"]


def count_submission(refusal: str = "") -> None:
    """Counts a refused submission (page or API) by its cause: "invalid" (the dashboard's
    validation errors per attempt), "credits" (lack of credits), or another cause. Accepted ones
    are counted by the roll-up from their rows: a counter row every submission of the site
    updated would serialize them all."""
    if refusal == "invalid":
        count_event("submission_invalid")
    elif refusal:
        count_event("submission_refused", refusal)


def refusal_of(error: Exception) -> str:
    if isinstance(error, (InsufficientCredits, CreditDebtOutstanding)):
        return "credits"
    if isinstance(error, (ValidationError, ApiValidationError)):
        return "invalid"
    return type(error).__name__


@contextmanager
def counted_submission() -> Iterator[None]:
    """`count_submission` around a block that raises the refusal (the API's create)."""
    try:
        yield
    except Exception as error:
        count_submission(refusal_of(error))
        raise
    count_submission()
