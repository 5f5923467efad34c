"""The staff dashboard's figures for a window, from the hourly counts and a few live rows.

A constant number of queries, each reading at most a few hundred rows whatever the history:
totals per (metric, dimension) over the window, one series per bucket for the charts, the
gauges of the last roll-up, the last audit and the task queue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, Min, Q, Sum, When
from django.db.models.functions import Trunc
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from wan_pwa.analytics.durations import percentile
from wan_pwa.analytics.models import HourlyCount, RollupCursor
from wan_pwa.analytics.rollup import HOUR, hour_start
from wan_pwa.background.models import MetricCounter, PeriodicJobRun

WINDOWS = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# Measured at each roll-up rather than summed over hours.
GAUGES = ("generations.active_users", "generations.in_flight")
SERIES = ("generations.created", "generations.ended")
SUCCESS_RATE_TARGET = 0.95
COMPLETION_TARGET_SECONDS = 300
WEBHOOK_RATE_TARGET = 0.99
TOP_FAILURES = 5


@dataclass(frozen=True)
class Target:
    """A figure against its goal: `met` is None when there is nothing to judge yet."""

    label: str
    shown: str
    goal: str
    met: bool | None


@dataclass
class Figures:
    window: str
    since: datetime
    totals: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    series: dict[str, list[int]] = field(default_factory=dict)
    gauges: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    rolled_up_at: datetime | None = None
    last_audit: PeriodicJobRun | None = None
    audit_mismatches: int = 0
    spent_today: int = 0  # free credits: those of users who never bought any
    spend_cap: int = 0
    bonuses_today: int = 0
    bonus_budget: int = 0
    queue_depth: int = 0
    oldest_waiting: timedelta | None = None

    def total(self, metric: str, dimension: str | None = None) -> int:
        values = self.totals.get(metric, {})
        return values.get(dimension, 0) if dimension is not None else sum(values.values())

    def by_status(self) -> dict[str, int]:
        return _split(self.totals.get("generations.ended", {}), 1)

    def by_model(self) -> dict[str, int]:
        return dict(sorted(self.totals.get("generations.created", {}).items()))

    @property
    def success_rate(self) -> float | None:
        ended = self.by_status()
        judged = ended.get("succeeded", 0) + ended.get("failed", 0)
        return ended.get("succeeded", 0) / judged if judged else None

    def duration(self, metric: str, fraction: float) -> int | None:
        histogram = {int(bound): n for bound, n in self.totals.get(metric, {}).items()}
        return percentile(histogram, fraction)

    @property
    def webhook_rate(self) -> float | None:
        ends = self.totals.get("webhooks.generation_end", {})
        total = sum(ends.values())
        return ends.get("webhook", 0) / total if total else None

    def top_failures(self) -> list[tuple[str, int]]:
        reasons = self.totals.get("generations.failure_reason", {})
        return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES]

    def credits(self) -> dict[str, int]:
        moved = self.totals.get("credits.moved", {})
        return {
            "granted (sign-up bonus)": moved.get("bonus", 0),
            "sold": moved.get("purchase", 0),
            "spent": -moved.get("deduction", 0),
            "refunded": moved.get("refund", 0),
            "taken back": -moved.get("clawback", 0),
            "given back": moved.get("reinstate", 0),
            "adjusted by staff (net)": moved.get("adjustment", 0),
        }

    def revenue(self) -> dict[str, int]:
        return dict(sorted(self.totals.get("credits.revenue", {}).items()))

    def uploads(self, kind: str = "image") -> dict[str, int]:
        """Uploads of `kind` (image, audio) by outcome: accepted, or refused with the reason."""
        return dict(sorted(self.totals.get(f"events.{kind}_upload", {}).items()))

    @property
    def submission_attempts(self) -> int:
        """Generations created, and submissions refused as invalid or by a limit or credits."""
        return (
            self.total("generations.created")
            + self.total("events.submission_invalid")
            + self.total("events.submission_refused")
        )

    @property
    def validation_errors_per_attempt(self) -> float | None:
        attempts = self.submission_attempts
        return self.total("events.submission_invalid") / attempts if attempts else None

    def in_flight(self) -> int:
        return sum(self.gauges.get("generations.in_flight", {}).values())

    def active_users(self) -> int:
        return self.gauges.get("generations.active_users", {}).get(self.window, 0)

    def targets(self) -> list[Target]:
        return [
            _ratio_target("Success rate", self.success_rate, SUCCESS_RATE_TARGET),
            _seconds_target("Completion p50", self.duration("generations.completion_seconds", 0.5)),
            _seconds_target(
                "Completion p95", self.duration("generations.completion_seconds", 0.95)
            ),
            _ratio_target("Webhook delivery", self.webhook_rate, WEBHOOK_RATE_TARGET),
            Target(
                "Credit audit",
                "no run yet" if self.last_audit is None else self.last_audit.outcome,
                "succeeded, 0 mismatches",
                None
                if self.last_audit is None
                else self.last_audit.outcome == PeriodicJobRun.Outcome.SUCCEEDED,
            ),
        ]


def _split(values: dict[str, int], part: int) -> dict[str, int]:
    """Sums `model:status` dimensions by one of their parts."""
    summed: dict[str, int] = defaultdict(int)
    for dimension, value in values.items():
        summed[dimension.split(":")[part]] += value
    return dict(sorted(summed.items()))


def _ratio_target(label: str, value: float | None, goal: float) -> Target:
    shown = "no data" if value is None else f"{value:.1%}"
    return Target(label, shown, f"> {goal:.0%}", None if value is None else value > goal)


def _seconds_target(label: str, seconds: int | None) -> Target:
    shown = "no data" if seconds is None else f"≤ {format_seconds(seconds)}"
    goal = f"< {format_seconds(COMPLETION_TARGET_SECONDS)}"
    return Target(
        label, shown, goal, None if seconds is None else seconds <= COMPLETION_TARGET_SECONDS
    )


def format_seconds(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{seconds / 60:g} min"


def figures(window: str) -> Figures:
    now = timezone.now()
    span = WINDOWS[window]
    since = hour_start(now) + HOUR - span
    result = Figures(window=window, since=since)
    counts = HourlyCount.objects.filter(hour__gte=since)

    for row in (
        counts.exclude(metric__in=GAUGES).values("metric", "dimension").annotate(total=Sum("value"))
    ):
        result.totals[row["metric"]][row["dimension"]] = row["total"]

    unit = "hour" if span <= timedelta(days=1) else "day"
    buckets = _buckets(since, now, unit)
    series: dict[str, list[int]] = {metric: [0] * len(buckets) for metric in SERIES}
    position = {bucket: index for index, bucket in enumerate(buckets)}
    rows = (
        counts.filter(metric__in=SERIES)
        .annotate(bucket=Trunc("hour", unit, tzinfo=timezone.get_current_timezone()))
        .values("metric", "bucket")
        .annotate(total=Sum("value"))
    )
    for row in rows:
        index = position.get(row["bucket"])
        if index is not None:
            series[row["metric"]][index] += row["total"]
    result.series = series

    cursor = RollupCursor.objects.filter(source="generations").first()
    if cursor is not None:
        result.rolled_up_at = cursor.filled_until
        for gauge in HourlyCount.objects.filter(
            metric__in=GAUGES, hour=hour_start(cursor.filled_until)
        ).values("metric", "dimension", "value"):
            result.gauges[gauge["metric"]][gauge["dimension"]] = gauge["value"]

    result.last_audit = (
        PeriodicJobRun.objects.filter(job="audit_credits", finished_at__isnull=False)
        .order_by("-slot")
        .first()
    )
    result.audit_mismatches = (
        MetricCounter.objects.filter(name="credit_audit_mismatches")
        .values_list("value", flat=True)
        .first()
        or 0
    )
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = HourlyCount.objects.filter(hour__gte=hour_start(midnight)).aggregate(
        free_spent=Sum("value", filter=Q(metric="credits.free_spent")),
        bonuses=Sum("value", filter=Q(metric="credits.moved", dimension="bonus")),
    )
    result.spent_today = today["free_spent"] or 0
    result.spend_cap = settings.DAILY_CREDIT_SPEND_CAP
    result.bonuses_today = today["bonuses"] or 0
    result.bonus_budget = settings.SIGNUP_BONUS_DAILY_BUDGET

    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
    )
    queue = DBTaskResult.objects.ready().aggregate(depth=Count("id"), oldest=Min(waiting_since))
    result.queue_depth = queue["depth"]
    result.oldest_waiting = now - queue["oldest"] if queue["oldest"] else None
    return result


def _buckets(since: datetime, now: datetime, unit: str) -> list[datetime]:
    """The starts of the chart's buckets, in the current time zone (as Trunc gives them)."""
    zone = timezone.get_current_timezone()
    first = timezone.localtime(since, zone)
    if unit == "day":
        first = first.replace(hour=0, minute=0, second=0, microsecond=0)
    step = HOUR if unit == "hour" else timedelta(days=1)
    buckets = []
    while first <= now:
        buckets.append(first)
        first = timezone.localtime(first + step, zone)
        if unit == "day":
            first = first.replace(hour=0)
    return buckets
