"""The generations' cards and targets on the staff dashboard (registered with
wan_pwa.analytics.dashboard in `ready()`), read from the hourly counts of generations/analytics.py
and the events the submissions count."""

from __future__ import annotations

from collections import defaultdict

from generations.failures import FailureReason
from wan_pwa.analytics import svg
from wan_pwa.analytics.dashboard import (
    Card,
    Figures,
    Target,
    ratio_target,
    seconds_target,
    shown_ratio,
    shown_seconds,
)

SUCCESS_RATE_TARGET = 0.95
TOP_FAILURES = 5
SERIES = ("generations.created", "generations.ended")
# Measured at each roll-up rather than summed over hours.
GAUGES = ("generations.active_users", "generations.in_flight")
UPLOAD_KINDS = ("image", "audio")


def by_status(data: Figures) -> dict[str, int]:
    """Ended generations by status (their dimension is `model:status`)."""
    summed: dict[str, int] = defaultdict(int)
    for dimension, value in data.totals.get("generations.ended", {}).items():
        summed[dimension.split(":")[1]] += value
    return dict(sorted(summed.items()))


def by_model(data: Figures) -> dict[str, int]:
    return dict(sorted(data.totals.get("generations.created", {}).items()))


def success_rate(data: Figures) -> float | None:
    ended = by_status(data)
    judged = ended.get("succeeded", 0) + ended.get("failed", 0)
    return ended.get("succeeded", 0) / judged if judged else None


def top_failures(data: Figures) -> list[tuple[str, int]]:
    reasons = data.totals.get("generations.failure_reason", {})
    return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES]


def uploads(data: Figures, kind: str = "image") -> dict[str, int]:
    """Uploads of `kind` (image, audio) by outcome: accepted, or refused with the reason."""
    return dict(sorted(data.totals.get(f"events.{kind}_upload", {}).items()))


def submission_attempts(data: Figures) -> int:
    """Generations created, and submissions refused as invalid or by a limit or credits."""
    return (
        data.total("generations.created")
        + data.total("events.submission_invalid")
        + data.total("events.submission_refused")
    )


def validation_errors_per_attempt(data: Figures) -> float | None:
    attempts = submission_attempts(data)
    return data.total("events.submission_invalid") / attempts if attempts else None


def in_flight(data: Figures) -> int:
    return sum(data.gauges.get("generations.in_flight", {}).values())


def active_users(data: Figures) -> int:
    return data.gauges.get("generations.active_users", {}).get(data.window, 0)


def generations_card(data: Figures) -> Card:
    ended, created = by_status(data), by_model(data)
    return Card(
        "Generations",
        [
            ("Submitted", sum(created.values())),
            ("Ended", sum(ended.values())),
            ("In flight now", in_flight(data)),
            ("Submit to start, p50", _starting(data, 0.5)),
            ("Submit to start, p95", _starting(data, 0.95)),
            (f"Active users (submitted in {data.window})", active_users(data)),
        ],
        [
            (
                "Submitted over time",
                svg.sparkline(data.series["generations.created"], "Submitted over time"),
            ),
            ("Ended, by status", svg.bars(list(ended.items()))),
            ("Submitted, by model", svg.bars(list(created.items()))),
        ],
    )


def _starting(data: Figures, fraction: float) -> str:
    return shown_seconds(data.duration("generations.starting_seconds", fraction))


def _label(reason: str) -> str:
    """Staff read the reason's label; a code no longer in the list shows as stored."""
    return FailureReason(reason).label if reason in FailureReason.values else reason


def failures_card(data: Figures) -> Card:
    failures = [(_label(reason), count) for reason, count in top_failures(data)]
    return Card(
        "Top failure reasons",
        list(failures) or [("No failures", "")],
        [("Failures", svg.bars(failures, "bar bar-failed"))] if failures else [],
    )


def front_end_card(data: Figures) -> Card:
    refused = data.totals.get("events.submission_refused", {})
    return Card(
        "Front end",
        [
            ("Submission attempts", submission_attempts(data)),
            ("Validation errors per attempt", shown_ratio(validation_errors_per_attempt(data))),
            ("Refused for lack of credits", refused.get("credits", 0)),
            *[
                (f"{kind.capitalize()} uploads {outcome}", count)
                for kind in UPLOAD_KINDS
                for outcome, count in uploads(data, kind).items()
            ],
        ],
    )


def success_rate_target(data: Figures) -> Target:
    return ratio_target("Success rate", success_rate(data), SUCCESS_RATE_TARGET)


def completion_p50_target(data: Figures) -> Target:
    return seconds_target("Completion p50", data.duration("generations.completion_seconds", 0.5))


def completion_p95_target(data: Figures) -> Target:
    return seconds_target("Completion p95", data.duration("generations.completion_seconds", 0.95))
