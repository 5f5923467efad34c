"""The staff dashboard page, inside the admin (its login, its look, staff only). The view only
arranges the figures into cards of (label, value) rows and charts; the template lays them out."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString

from wan_pwa.analytics import svg
from wan_pwa.analytics.dashboard import WINDOWS, Figures, figures, format_seconds


@dataclass
class Card:
    title: str
    rows: list[tuple[str, object]] = field(default_factory=list)
    charts: list[tuple[str, SafeString]] = field(default_factory=list)


def dashboard(request: HttpRequest) -> TemplateResponse:
    window = request.GET.get("window", "24h")
    if window not in WINDOWS:
        window = "24h"
    data = figures(window)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "windows": list(WINDOWS),
        "figures": data,
        "targets": data.targets(),
        "cards": cards(data),
    }
    return TemplateResponse(request, "admin/wan_pwa/dashboard.html", context)


def cards(data: Figures) -> list[Card]:
    by_status = data.by_status()
    by_model = data.by_model()
    failures = data.top_failures()
    webhook_ends = data.totals.get("webhooks.generation_end", {})
    refused = data.totals.get("events.submission_refused", {})
    return [
        Card(
            "Generations",
            [
                ("Submitted", sum(by_model.values())),
                ("Ended", sum(by_status.values())),
                ("In flight now", data.in_flight()),
                (
                    "Submit to start, p50",
                    _seconds(data.duration("generations.starting_seconds", 0.5)),
                ),
                (
                    "Submit to start, p95",
                    _seconds(data.duration("generations.starting_seconds", 0.95)),
                ),
            ],
            [
                (
                    "Submitted over time",
                    svg.sparkline(data.series["generations.created"], "Submitted over time"),
                ),
                ("Ended, by status", svg.bars(list(by_status.items()))),
                ("Submitted, by model", svg.bars(list(by_model.items()))),
            ],
        ),
        Card(
            "Top failure reasons",
            [(reason, count) for reason, count in failures] or [("No failures", "")],
            [("Failures", svg.bars(failures, "bar bar-failed"))] if failures else [],
        ),
        Card(
            "Webhooks",
            [
                ("Ends learned from a webhook", webhook_ends.get("webhook", 0)),
                (
                    "Ends learned otherwise (watchdog, reconcile, command)",
                    webhook_ends.get("other", 0),
                ),
                (
                    "Rejected deliveries (bad signature or time)",
                    data.total("events.webhook_rejected"),
                ),
                ("Duplicate deliveries", data.total("events.webhook_duplicate")),
            ],
        ),
        Card(
            "Credits",
            [
                *data.credits().items(),
                *[
                    (f"Revenue ({currency.upper()}, cents)", amount)
                    for currency, amount in data.revenue().items()
                ],
                (
                    "Free credits spent today",
                    f"{data.spent_today} of {data.spend_cap} (daily cap)",
                ),
                (
                    "Bonuses granted today",
                    f"{data.bonuses_today} of {data.bonus_budget} (daily budget)",
                ),
                ("Audit mismatches (all time)", data.audit_mismatches),
                ("Last audit", _audit(data)),
            ],
            [
                (
                    "Today's free spending against the cap",
                    svg.meter(data.spent_today, data.spend_cap, data.spent_today < data.spend_cap),
                )
            ],
        ),
        Card(
            "Front end",
            [
                ("Submission attempts", data.submission_attempts),
                ("Validation errors per attempt", _ratio(data.validation_errors_per_attempt)),
                ("Refused for lack of credits", refused.get("credits", 0)),
                *[
                    (f"{kind.capitalize()} uploads {outcome}", count)
                    for kind in ("image", "audio")
                    for outcome, count in data.uploads(kind).items()
                ],
            ],
        ),
        Card(
            "Queue and users",
            [
                ("Tasks waiting", data.queue_depth),
                (
                    "Oldest waiting task",
                    _seconds(
                        None
                        if data.oldest_waiting is None
                        else int(data.oldest_waiting.total_seconds())
                    ),
                ),
                ("Sign-ups", data.total("accounts.signups")),
                (f"Active users (submitted in {data.window})", data.active_users()),
            ],
        ),
    ]


def _audit(data: Figures) -> str:
    run = data.last_audit
    if run is None:
        return "never ran"
    return f"{run.outcome} at {run.finished_at:%Y-%m-%d %H:%M}: {run.result[:200]}"


def _seconds(seconds: int | None) -> str:
    return "-" if seconds is None else format_seconds(seconds)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
