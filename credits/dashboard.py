"""The credits' card and target on the staff dashboard (registered with
wan_pwa.analytics.dashboard in `ready()`)."""

from __future__ import annotations

from django.conf import settings

from credits.jobs import MISMATCH_METRIC
from credits.money import format_money
from wan_pwa.analytics import svg
from wan_pwa.analytics.dashboard import Card, Figures, Target
from wan_pwa.background.models import PeriodicJobRun

AUDIT_JOB = "audit_credits"


def credits_moved(data: Figures) -> dict[str, int]:
    moved = data.totals.get("credits.moved", {})
    return {
        "granted (sign-up bonus)": moved.get("bonus", 0),
        "sold": moved.get("purchase", 0),
        "spent": -moved.get("deduction", 0),
        "refunded": moved.get("refund", 0),
        "taken back": -moved.get("clawback", 0),
        "given back": moved.get("reinstate", 0),
        "adjusted by staff (net)": moved.get("adjustment", 0),
    }


def revenue(data: Figures) -> dict[str, int]:
    return dict(sorted(data.totals.get("credits.revenue", {}).items()))


def spent_today(data: Figures) -> int:
    """Free credits spent today: what DAILY_CREDIT_SPEND_CAP counts (users who never bought)."""
    return data.today.get("credits.free_spent", {}).get("", 0)


def bonuses_today(data: Figures) -> int:
    return data.today.get("credits.moved", {}).get("bonus", 0)


def credits_card(data: Figures) -> Card:
    spent, cap = spent_today(data), settings.DAILY_CREDIT_SPEND_CAP
    bonuses, budget = bonuses_today(data), settings.SIGNUP_BONUS_DAILY_BUDGET
    return Card(
        "Credits",
        [
            *credits_moved(data).items(),
            *[
                (f"Revenue ({currency.upper()})", format_money(amount, currency))
                for currency, amount in revenue(data).items()
            ],
            ("Free credits spent today", f"{spent} of {cap} (daily cap)"),
            ("Bonuses granted today", f"{bonuses} of {budget} (daily budget)"),
            ("Audit mismatches (all time)", data.counters.get(MISMATCH_METRIC, 0)),
            ("Last audit", _audit(data.last_runs.get(AUDIT_JOB))),
        ],
        [
            ("Today's free spending against the cap", svg.meter(spent, cap, spent < cap)),
            ("Today's bonuses against their budget", svg.meter(bonuses, budget, bonuses < budget)),
        ],
    )


def _audit(run: PeriodicJobRun | None) -> str:
    if run is None:
        return "never ran"
    return f"{run.outcome} at {run.finished_at:%Y-%m-%d %H:%M}: {run.result[:200]}"


def audit_target(data: Figures) -> Target:
    run = data.last_runs.get(AUDIT_JOB)
    return Target(
        "Credit audit",
        "no run yet" if run is None else run.outcome,
        "succeeded, 0 mismatches",
        None if run is None else run.outcome == PeriodicJobRun.Outcome.SUCCEEDED,
    )
