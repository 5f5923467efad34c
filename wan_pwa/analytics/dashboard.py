"""The staff dashboard's figures for a window, from the hourly counts and a few live rows, and
the registries of the cards and targets that the apps show on it.

The figures are generic (totals per metric and dimension, series, gauges, the periodic jobs'
last runs, counters, the task queue); each app registers, from its `ready()`, cards and targets
that turn them into what staff read. A constant number of queries, each reading at most a few
hundred rows whatever the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, Count, F, Min, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.safestring import SafeString
from django_tasks_db.models import DBTaskResult, get_date_max

from wan_pwa.analytics.durations import percentile
from wan_pwa.analytics.models import HourlyCount, RollupCursor
from wan_pwa.analytics.rollup import HOUR, hour_start
from wan_pwa.background.models import MetricCounter, PeriodicJobRun
from wan_pwa.registry import Registry

WINDOWS = {"24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
COMPLETION_TARGET_SECONDS = 300


@dataclass(frozen=True)
class Target:
    """A figure against its goal: `met` is None when there is nothing to judge yet."""

    label: str
    shown: str
    goal: str
    met: bool | None


@dataclass
class Card:
    title: str
    rows: list[tuple[str, object]] = field(default_factory=list)
    charts: list[tuple[str, SafeString]] = field(default_factory=list)


@dataclass
class Figures:
    window: str
    since: datetime
    totals: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # Totals since the start of today (local time), e.g. for a daily cap.
    today: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    series: dict[str, list[int]] = field(default_factory=dict)
    gauges: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    rolled_up_at: datetime | None = None
    last_runs: dict[str, PeriodicJobRun] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    queue_depth: int = 0
    oldest_waiting: timedelta | None = None

    def total(self, metric: str, dimension: str | None = None) -> int:
        values = self.totals.get(metric, {})
        return values.get(dimension, 0) if dimension is not None else sum(values.values())

    def duration(self, metric: str, fraction: float) -> int | None:
        histogram = {int(bound): n for bound, n in self.totals.get(metric, {}).items()}
        return percentile(histogram, fraction)

    def targets(self) -> list[Target]:
        return [judge(self) for judge in TARGETS]

    def cards(self) -> list[Card]:
        return [card.build(self) for card in CARDS]


@dataclass(frozen=True)
class DashboardCard:
    build: Callable[[Figures], Card]
    series: tuple[str, ...] = ()  # metrics charted over the window, bucket by bucket
    gauges: tuple[str, ...] = ()  # metrics measured at each roll-up rather than summed
    jobs: tuple[str, ...] = ()  # periodic jobs whose last run the card shows


CARDS: Registry[DashboardCard] = Registry("dashboard card")
TARGETS: Registry[Callable[[Figures], Target]] = Registry("dashboard target")


def register_card(
    name: str,
    build: Callable[[Figures], Card],
    *,
    series: Iterable[str] = (),
    gauges: Iterable[str] = (),
    jobs: Iterable[str] = (),
    order: int = 0,
) -> None:
    """Called from an app's `ready()`. Cards show in order of registration (INSTALLED_APPS),
    or of `order` for one that must come at an end."""
    CARDS.register(
        name, DashboardCard(build, tuple(series), tuple(gauges), tuple(jobs)), order=order
    )


def register_target(name: str, judge: Callable[[Figures], Target]) -> None:
    """Called from an app's `ready()`: a figure judged against its goal, atop the dashboard."""
    TARGETS.register(name, judge)


def ratio_target(label: str, value: float | None, goal: float) -> Target:
    shown = "no data" if value is None else f"{value:.1%}"
    return Target(label, shown, f"> {goal:.0%}", None if value is None else value > goal)


def seconds_target(label: str, seconds: int | None) -> Target:
    shown = "no data" if seconds is None else f"≤ {format_seconds(seconds)}"
    goal = f"< {format_seconds(COMPLETION_TARGET_SECONDS)}"
    return Target(
        label, shown, goal, None if seconds is None else seconds <= COMPLETION_TARGET_SECONDS
    )


def format_seconds(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{seconds / 60:g} min"


def shown_seconds(seconds: int | None) -> str:
    return "-" if seconds is None else format_seconds(seconds)


def shown_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def figures(window: str) -> Figures:
    now = timezone.now()
    span = WINDOWS[window]
    since = hour_start(now) + HOUR - span
    result = Figures(window=window, since=since)
    gauges = {metric for card in CARDS for metric in card.gauges}
    counts = HourlyCount.objects.exclude(metric__in=gauges)

    for row in (
        counts.filter(hour__gte=since).values("metric", "dimension").annotate(total=Sum("value"))
    ):
        result.totals[row["metric"]][row["dimension"]] = row["total"]
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for row in (
        counts.filter(hour__gte=hour_start(midnight))
        .values("metric", "dimension")
        .annotate(total=Sum("value"))
    ):
        result.today[row["metric"]][row["dimension"]] = row["total"]

    result.series = _series(since, now, span, {metric for card in CARDS for metric in card.series})

    cursors = dict(RollupCursor.objects.values_list("source", "filled_until"))
    if cursors:
        result.rolled_up_at = min(cursors.values())
        # Each gauge as its source's last roll-up measured it.
        latest = Q(pk__in=[])
        for source, filled_until in cursors.items():
            latest |= Q(metric__startswith=f"{source}.", hour=hour_start(filled_until))
        for gauge in HourlyCount.objects.filter(latest, metric__in=gauges).values(
            "metric", "dimension", "value"
        ):
            result.gauges[gauge["metric"]][gauge["dimension"]] = gauge["value"]

    finished = PeriodicJobRun.objects.filter(finished_at__isnull=False)
    newest = finished.filter(job=OuterRef("job")).order_by("-slot").values("pk")[:1]
    result.last_runs = {
        run.job: run
        for run in finished.filter(
            job__in={job for card in CARDS for job in card.jobs}, pk=Subquery(newest)
        )
    }
    result.counters = dict(MetricCounter.objects.values_list("name", "value"))

    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after")
    )
    queue = DBTaskResult.objects.ready().aggregate(depth=Count("id"), oldest=Min(waiting_since))
    result.queue_depth = queue["depth"]
    result.oldest_waiting = now - queue["oldest"] if queue["oldest"] else None
    return result


def _series(
    since: datetime, now: datetime, span: timedelta, metrics: set[str]
) -> dict[str, list[int]]:
    unit = "hour" if span <= timedelta(days=1) else "day"
    buckets = _buckets(since, now, unit)
    series: dict[str, list[int]] = {metric: [0] * len(buckets) for metric in metrics}
    position = {bucket: index for index, bucket in enumerate(buckets)}
    rows = (
        HourlyCount.objects.filter(hour__gte=since, metric__in=metrics)
        .annotate(bucket=Trunc("hour", unit, tzinfo=timezone.get_current_timezone()))
        .values("metric", "bucket")
        .annotate(total=Sum("value"))
    )
    for row in rows:
        index = position.get(row["bucket"])
        if index is not None:
            series[row["metric"]][index] += row["total"]
    return series


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


def queue_and_signups(data: Figures) -> Card:
    """wan_pwa's own card: the workers' queue and the accounts' sign-ups."""
    oldest = None if data.oldest_waiting is None else int(data.oldest_waiting.total_seconds())
    return Card(
        "Queue and sign-ups",
        [
            ("Tasks waiting", data.queue_depth),
            ("Oldest waiting task", shown_seconds(oldest)),
            ("Sign-ups", data.total("accounts.signups")),
        ],
    )
