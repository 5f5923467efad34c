"""Periodic jobs of credits, run by the workers (registered in `apps.py`)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from credits import audit, auto_refill, bonus, buckets, stripe_gateway
from credits.actions import (
    OrderOutcome,
    close_order,
    expire_credits,
    fulfil_checkout,
    fulfil_refill,
)
from credits.models import Order, OrderStatus
from credits.stripe_gateway import PaymentsUnavailable
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


RECONCILE_BATCH = 100


def reconcile_orders() -> str:
    """Asks Stripe about orders still pending a while after checkout, for when its webhooks do
    not arrive (an endpoint down for days, a wrong secret): a paid session is granted and an
    expired one closed through the same actions the webhook calls, so a webhook arriving later
    changes nothing. Open sessions are left alone; Stripe expires them within a day, after
    which they are closed here too. A completed session whose delayed payment (a bank debit)
    failed is closed as failed: its payment is back to needing a method."""
    if not settings.STRIPE_SECRET_KEY:
        return "payments are not set up"
    cutoff = timezone.now() - timedelta(seconds=settings.ORDER_RECONCILE_AFTER)
    pending = (
        Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=cutoff)
        .filter(Q(checkout_session_id__isnull=False) | Q(refill_key__isnull=False))
        .order_by("created_at")[:RECONCILE_BATCH]
    )
    outcomes: Counter[str] = Counter()
    for order in pending:
        try:
            outcome = _reconcile(order)
        except PaymentsUnavailable as error:
            raise JobFailed(f"order #{order.pk}: {error}") from error
        if outcome == OrderOutcome.GRANTED:
            logger.warning("order #%s was paid but no webhook said so: granted", order.pk)
        outcomes[outcome] += 1
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or (
        "no pending orders"
    )


def _reconcile(order: Order) -> OrderOutcome:
    if order.is_refill:
        return _reconcile_refill(order)
    assert order.checkout_session_id  # reconcile_orders's filter
    session = stripe_gateway.retrieve_checkout_session(order.checkout_session_id)
    if session.payment_status == "paid":
        return fulfil_checkout(session).outcome
    if session.status == "expired":
        return close_order(session, OrderStatus.EXPIRED).outcome
    if session.status == "complete" and _delayed_payment_failed(session):
        return close_order(session, OrderStatus.FAILED).outcome
    return OrderOutcome.AWAITING_PAYMENT


def _reconcile_refill(order: Order) -> OrderOutcome:
    """A refill still pending: its payment asked of Stripe again if its id was never recorded
    (the order's key makes that the same payment, or its refusal), then settled by what Stripe
    says of it, through the webhook's actions."""
    if not order.payment_intent_id:
        auto_refill.charge_refill.call(order.pk)
        order.refresh_from_db()
        if order.status != OrderStatus.PENDING:
            return OrderOutcome.CLOSED
        if not order.payment_intent_id:
            return OrderOutcome.AWAITING_PAYMENT
    intent = stripe_gateway.retrieve_payment_intent(order.payment_intent_id)
    if intent.status == "succeeded":
        return fulfil_refill(intent).outcome
    if intent.status in ("requires_payment_method", "canceled"):
        auto_refill.refill_refused_payment(order.pk, intent)
        return OrderOutcome.CLOSED
    return OrderOutcome.AWAITING_PAYMENT


def _delayed_payment_failed(session: stripe_gateway.CheckoutSession) -> bool:
    """A completed, unpaid session is a delayed payment: still processing, or failed, which
    Stripe shows by sending its payment back to needing a payment method."""
    if not session.payment_intent:
        return False
    status = stripe_gateway.payment_intent_status(session.payment_intent)
    return status in ("requires_payment_method", "canceled")


def grant_waiting_bonuses() -> str:
    """Sign-up bonuses deferred by a spent daily budget, granted oldest first."""
    return f"{bonus.grant_waiting_bonuses()} waiting bonuses granted"


EXPIRY_BATCH = 500


def expire_buckets() -> str:
    """Writes off the credits left in expired buckets, one `expiry` ledger row per bucket, a
    short transaction per user under their balance lock. Idempotent: a bucket written off is
    empty, and a second expiry row for it is refused by a unique constraint."""
    users = buckets.users_with_due_buckets(timezone.now(), EXPIRY_BATCH)
    expired = sum(expire_credits(user_id) for user_id in users)
    return f"{expired} buckets expired for {len(users)} users"
