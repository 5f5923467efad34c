"""Periodic jobs of credits, run by the workers (PERIODIC_JOBS in settings)."""

from __future__ import annotations

import logging

from credits import audit
from wan_pwa.background import metrics
from wan_pwa.background.scheduler import JobFailed

logger = logging.getLogger(__name__)

MISMATCH_METRIC = "credit_audit_mismatches"
SHOWN_MISMATCHES = 5


def audit_credits() -> str:
    """Proves the ledger and balances agree; a mismatch is logged as an error, counted in the
    `credit_audit_mismatches` metric and fails the run. Read-only, so running it twice is
    harmless."""
    report = audit.audit_credits()
    if report.clean:
        return f"clean: {report.users} users, {report.transactions} ledger rows"
    metrics.increment(MISMATCH_METRIC, len(report.mismatches))
    shown = "; ".join(str(mismatch) for mismatch in report.mismatches[:SHOWN_MISMATCHES])
    summary = f"{len(report.mismatches)} mismatch(es): {shown}"
    logger.error("credit audit: %s", summary)
    raise JobFailed(summary)
