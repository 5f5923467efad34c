"""Plans: subscribing through Stripe Checkout, the Customer Portal, and every change to a
subscription and its credits, applied from Stripe's signed events.

Events come in any order and more than once. Credits are granted once per paid invoice (a
unique invoice id, under the user's balance lock); the subscription's state is replaced only
by a description at least as new, ordered by (period end, event time), and a canceled
subscription stays canceled. Lock order for events: the user's balance row, then their
subscription and plan invoice rows. Opening a checkout locks the user's customer row only.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from math import floor

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from credits import buckets, stripe_billing, stripe_gateway
from credits.actions import (
    CHECKOUT_LIFETIME,
    REUSE_MARGIN,
    CreditError,
    OrderOutcome,
    _write,
    lock_balance,
    pay_debts,
    settle_paid_credits,
)
from credits.customers import ensure_stripe_customer
from credits.models import (
    DISPUTE_FINAL_STATUSES,
    LIVE_SUBSCRIPTION_STATUSES,
    CreditBalance,
    Plan,
    PlanCheckout,
    PlanInvoice,
    StripeCustomer,
    Subscription,
    SubscriptionStatus,
    TransactionType,
)
from wan_pwa.accounts.models import User

logger = logging.getLogger(__name__)

# Invoices whose payment grants credits: a new subscription, a renewal, an upgrade's difference.
GRANTING_REASONS = frozenset({"subscription_create", "subscription_cycle", "subscription_update"})


class PlanOutcome(StrEnum):
    """What a subscription or invoice event did, recorded with the event."""

    GRANTED = "granted"
    ALREADY_GRANTED = "already_granted"
    NOTHING_TO_GRANT = "nothing_to_grant"
    UPDATED = "updated"
    STALE = "stale"
    PAST_DUE = "past_due"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_PLAN = "unknown_plan"
    NOT_A_SUBSCRIPTION = "not_a_subscription"
    SECOND_SUBSCRIPTION = "second_subscription"
    CHECKOUT_CLOSED = "checkout_closed"
    PAYMENT_LINKED = "payment_linked"


class UnknownPlan(CreditError):
    code = "unknown_plan"

    def __init__(self) -> None:
        super().__init__("Pick one of the plans on offer.")


class NoPlan(CreditError):
    code = "no_plan"

    def __init__(self) -> None:
        super().__init__("You have no plan to manage; pick one under Monthly plans.")


class PlanStarting(CreditError):
    code = "plan_starting"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "Your payment for a plan went through; the plan appears in Billing in a moment."
        )


def available_plans() -> QuerySet[Plan]:
    return Plan.objects.filter(active=True, currency=settings.BILLING_CURRENCY)


def live_subscription(user: User) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user, status__in=LIVE_SUBSCRIPTION_STATUSES)
        .select_related("plan")
        .first()
    )


# Subscribing and the portal -------------------------------------------------------------------


@dataclass(frozen=True)
class Subscribe:
    url: str
    to_portal: bool  # the user has a plan already: the portal changes it


def plan_price_id(plan: Plan) -> str:
    """The plan's Stripe price, made on first use. The key names the plan and its terms, so
    concurrent first uses make one price."""
    if plan.stripe_price_id:
        return plan.stripe_price_id
    price_id = stripe_gateway.create_price(
        plan_id=plan.pk,
        name=plan.name,
        amount=plan.price,
        currency=plan.currency,
        idempotency_key=f"wan-plan-{plan.pk}-{plan.credits}-{plan.price}-{plan.currency}",
    )
    Plan.objects.filter(pk=plan.pk, stripe_price_id="").update(stripe_price_id=price_id)
    plan.stripe_price_id = Plan.objects.values_list("stripe_price_id", flat=True).get(pk=plan.pk)
    return plan.stripe_price_id


def subscribe(
    user: User, plan_id: object, *, success_url: str, cancel_url: str, return_url: str
) -> Subscribe:
    """Where to send the user to subscribe to the plan: a Checkout Session in subscription mode
    for their customer, or the portal when they have a plan already. A user has one open plan
    checkout: the same plan's is handed out again while it stays open, another is expired
    first. Raises UnknownPlan or PaymentsUnavailable."""
    try:
        plan = available_plans().get(pk=int(str(plan_id)))
    except (ValueError, OverflowError, Plan.DoesNotExist):
        raise UnknownPlan() from None
    if live_subscription(user) is not None:
        return Subscribe(portal_url(user, return_url=return_url), to_portal=True)
    customer = ensure_stripe_customer(user)
    price = plan_price_id(plan)
    with transaction.atomic():
        # One checkout at a time per user, so concurrent clicks share it; the customer row,
        # not the balance, so submissions never wait on Stripe.
        StripeCustomer.objects.select_for_update().get(user=user)
        since = timezone.now() - CHECKOUT_LIFETIME
        for checkout in PlanCheckout.objects.filter(user=user, created_at__gt=since):
            session = stripe_gateway.retrieve_checkout_session(checkout.checkout_session_id)
            fresh = (session.expires_at or 0) - timezone.now().timestamp()
            if checkout.plan_id == plan.pk and session.is_open and fresh > REUSE_MARGIN.seconds:
                return Subscribe(checkout.checkout_url, to_portal=False)
            if session.status == "complete":  # paid, its events not here yet
                raise PlanStarting()
            if session.is_open:
                stripe_gateway.expire_checkout_session(session.id)
            checkout.delete()
        session = stripe_gateway.create_subscription_checkout(
            customer=customer,
            price=price,
            metadata={"user_id": str(user.pk), "plan_id": str(plan.pk)},
            # One attempt, however often the client retries it; the user's lock serializes
            # attempts, so a second click finds this one's row instead of making another.
            idempotency_key=f"wan-plan-checkout-{user.pk}-{secrets.token_hex(8)}",
            success_url=success_url,
            cancel_url=cancel_url,
        )
        PlanCheckout.objects.create(
            user=user, plan=plan, checkout_session_id=session.id, checkout_url=session.url
        )
    return Subscribe(session.url, to_portal=False)


def portal_url(user: User, *, return_url: str) -> str:
    """A Customer Portal session for the user, where they change plan, cancel or fix their
    card. Every active plan has its price by then, so the portal can offer them all."""
    if not Subscription.objects.filter(user=user).exists():
        raise NoPlan()
    for plan in available_plans():
        plan_price_id(plan)
    return stripe_gateway.create_portal_session(
        customer=ensure_stripe_customer(user), return_url=return_url
    )


def end_plan_of_closed_account(user: User) -> None:
    """A closed account pays for nothing more: its live subscription is canceled at Stripe now
    (its customer.subscription.deleted event then records it). Safe to run again: Stripe
    refuses a subscription canceled already, which is what was wanted."""
    for sub in Subscription.objects.filter(user=user, status__in=LIVE_SUBSCRIPTION_STATUSES):
        stripe_gateway.cancel_subscription(sub.stripe_subscription_id)


# Stripe's events --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    outcome: str
    subscription: Subscription | None = None
    plan_invoice: PlanInvoice | None = None


def close_plan_checkout(session_id: str) -> PlanResult:
    """A plan's Checkout Session completed or expired: no longer open, so no longer counted
    (the subscription itself comes with its own events)."""
    PlanCheckout.objects.filter(checkout_session_id=session_id).delete()
    return PlanResult(PlanOutcome.CHECKOUT_CLOSED)


def _user_id(customer: str) -> int | None:
    return (
        StripeCustomer.objects.filter(stripe_customer_id=customer)
        .values_list("user_id", flat=True)
        .first()
    )


def _plans(prices: set[str]) -> dict[str, Plan]:
    return {plan.stripe_price_id: plan for plan in Plan.objects.filter(stripe_price_id__in=prices)}


def _time(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _apply_state(
    sub: Subscription,
    *,
    status: str,
    period: tuple[int, int] | None,
    plan: Plan | None,
    cancel_at_period_end: bool | None,
    event_at: int,
) -> bool:
    """Replaces the subscription's state with a description at least as new as the last one
    applied; False (nothing changed) for an older one or an ended subscription."""
    period_end = period[1] if period else sub.synced_period_end
    if sub.status == SubscriptionStatus.CANCELED:
        return False
    if (period_end, event_at) < (sub.synced_period_end, sub.synced_event_at):
        return False
    sub.status = status
    sub.synced_period_end, sub.synced_event_at = period_end, event_at
    if period is not None:
        sub.current_period_start, sub.current_period_end = _time(period[0]), _time(period[1])
    if plan is not None:
        sub.plan = plan
    if cancel_at_period_end is not None:
        sub.cancel_at_period_end = cancel_at_period_end
    sub.save(
        update_fields=[
            "status",
            "synced_period_end",
            "synced_event_at",
            "current_period_start",
            "current_period_end",
            "plan",
            "cancel_at_period_end",
            "updated_at",
        ]
    )
    return True


def _find_or_make(
    stripe_id: str, *, user_id: int, customer: str, plan: Plan, status: str, period: tuple[int, int]
) -> Subscription | None:
    """The subscription's row, made from the first event that names it; None when the user
    has another live subscription already (a second checkout paid: left to staff)."""
    found = Subscription.objects.select_for_update().filter(stripe_subscription_id=stripe_id)
    if sub := found.first():
        return sub
    try:
        with transaction.atomic():
            return Subscription.objects.create(
                user_id=user_id,
                plan=plan,
                stripe_subscription_id=stripe_id,
                stripe_customer_id=customer,
                status=status,
                current_period_start=_time(period[0]),
                current_period_end=_time(period[1]),
            )
    except IntegrityError:
        logger.error("user %s paid for a second subscription %s", user_id, stripe_id)
        return None


def record_subscription(
    data: stripe_billing.Subscription, *, event_at: int, deleted: bool = False
) -> PlanResult:
    """customer.subscription.created/updated/deleted: the plan, status, period and whether
    it ends at the period's end."""
    user_id = _user_id(data.customer)
    if user_id is None:
        return PlanResult(PlanOutcome.UNKNOWN_CUSTOMER)
    plan = _plans({data.price}).get(data.price)
    if plan is None:
        return PlanResult(PlanOutcome.UNKNOWN_PLAN)
    status = SubscriptionStatus.CANCELED if deleted else data.status
    if status not in SubscriptionStatus.values:
        status = SubscriptionStatus.PAST_DUE  # a status Stripe added since: not paying now
    period = (data.period_start, data.period_end)
    with transaction.atomic():
        lock_balance(user_id)
        sub = _find_or_make(
            data.id,
            user_id=user_id,
            customer=data.customer,
            plan=plan,
            status=status,
            period=period,
        )
        if sub is None:
            return PlanResult(PlanOutcome.SECOND_SUBSCRIPTION)
        # An ending always applies: a canceled subscription never comes back.
        changed = _apply_state(
            sub,
            status=status,
            period=period,
            plan=plan,
            cancel_at_period_end=data.cancel_at_period_end,
            event_at=2**40 if deleted else event_at,
        )
    return PlanResult(PlanOutcome.UPDATED if changed else PlanOutcome.STALE, sub)


def _invoice_credits(invoice: stripe_billing.Invoice, plans: dict[str, Plan]) -> int:
    """The plan's credits for each line's share of its price: a whole period is the plan's
    credits; an upgrade's lines (unused time on the old plan, remaining time on the new) give
    the difference pro rata. Rounded down, never below 0."""
    share = sum(
        (Fraction(plans[line.price].credits * line.amount, plans[line.price].price))
        for line in invoice.lines
    )
    return max(floor(share), 0)


def record_invoice_paid(invoice: stripe_billing.Invoice, *, event_at: int) -> PlanResult:
    """invoice.paid: the period's credits (or an upgrade's difference), granted once per
    invoice, expiring at the period's end; the next purchase pays any debt first."""
    if not invoice.subscription:
        return PlanResult(PlanOutcome.NOT_A_SUBSCRIPTION)
    user_id = _user_id(invoice.customer)
    if user_id is None:
        return PlanResult(PlanOutcome.UNKNOWN_CUSTOMER)
    plans = _plans({line.price for line in invoice.lines})
    if any(line.price not in plans for line in invoice.lines):
        return PlanResult(PlanOutcome.UNKNOWN_PLAN)
    # The plan paid for: the last line that adds (an upgrade's new plan).
    plan = plans[max(invoice.lines, key=lambda line: line.amount).price]
    period = (invoice.period_start, invoice.period_end)
    with transaction.atomic():
        balance = lock_balance(user_id)
        sub = _find_or_make(
            invoice.subscription,
            user_id=user_id,
            customer=invoice.customer,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            period=period,
        )
        if sub is None:
            return PlanResult(PlanOutcome.SECOND_SUBSCRIPTION)
        if sub.status == SubscriptionStatus.PAST_DUE:  # this payment may be the one that failed
            _apply_state(
                sub,
                status=SubscriptionStatus.ACTIVE,
                period=None,
                plan=None,
                cancel_at_period_end=None,
                event_at=event_at,
            )
        found = PlanInvoice.objects.filter(stripe_invoice_id=invoice.id).first()
        if found is not None:
            return PlanResult(PlanOutcome.ALREADY_GRANTED, sub, found)
        credits = (
            _invoice_credits(invoice, plans) if invoice.billing_reason in GRANTING_REASONS else 0
        )
        paid = PlanInvoice.objects.create(
            user_id=user_id,
            subscription=sub,
            plan=plan,
            stripe_invoice_id=invoice.id,
            billing_reason=invoice.billing_reason[:40],
            payment_intent_id=invoice.payment_intent,
            period_start=_time(period[0]),
            period_end=_time(period[1]),
            credits=credits,
            amount=max(invoice.amount_paid, 0),
            currency=invoice.currency,
        )
        if credits == 0:
            return PlanResult(PlanOutcome.NOTHING_TO_GRANT, sub, paid)
        row = _write(
            balance,
            amount=credits,
            type=TransactionType.PURCHASE,
            plan_invoice=paid,
            description=f"{plan.name} plan: {credits} credits until {paid.period_end:%d %b %Y}",
        )
        buckets.fill(row, credits, expires_at=paid.period_end, source="plan")
        pay_debts(balance, paid_by=paid)
    return PlanResult(PlanOutcome.GRANTED, sub, paid)


def record_invoice_failed(invoice: stripe_billing.Invoice, *, event_at: int) -> PlanResult:
    """invoice.payment_failed: the subscription is past due until a payment goes through, and
    the user is told by e-mail how to fix their card."""
    user_id = _user_id(invoice.customer)
    if not invoice.subscription or user_id is None:
        return PlanResult(PlanOutcome.NOT_A_SUBSCRIPTION)
    with transaction.atomic():
        lock_balance(user_id)
        sub = (
            Subscription.objects.select_for_update()
            .filter(stripe_subscription_id=invoice.subscription)
            .select_related("plan", "user")
            .first()
        )
        if sub is None or PlanInvoice.objects.filter(stripe_invoice_id=invoice.id).exists():
            return PlanResult(PlanOutcome.STALE, sub)
        changed = _apply_state(
            sub,
            status=SubscriptionStatus.PAST_DUE,
            period=(invoice.period_start, invoice.period_end),
            plan=None,
            cancel_at_period_end=None,
            event_at=event_at,
        )
        if changed:
            transaction.on_commit(lambda: _tell_payment_failed(sub))
    return PlanResult(PlanOutcome.PAST_DUE if changed else PlanOutcome.STALE, sub)


def _tell_payment_failed(sub: Subscription) -> None:
    if not sub.user.email:
        return
    billing = settings.SITE_URL + "/settings/billing/"
    send_mail(
        f"Your {sub.plan.name} plan's payment failed",
        f"We could not charge your card for your {sub.plan.name} plan. Update your card in "
        f'Billing ({billing}, "Fix payment") and we will try again; until then no new '
        "monthly credits are added.",
        None,
        [sub.user.email],
        fail_silently=True,
    )


def _locked_plan_invoice(payment_intent: str) -> tuple[CreditBalance, PlanInvoice] | None:
    user_id = (
        PlanInvoice.objects.filter(payment_intent_id=payment_intent)
        .values_list("user_id", flat=True)
        .first()
    )
    if not payment_intent or user_id is None:
        return None
    balance = lock_balance(user_id)
    return balance, PlanInvoice.objects.select_for_update().get(payment_intent_id=payment_intent)


def record_invoice_payment(invoice_id: str, payment_intent: str) -> PlanResult:
    """invoice_payment.paid: links a paid plan invoice to its payment when the invoice's own
    event did not carry it (Stripe includes an invoice's payments only on request), so its
    refunds and disputes find it. Outcome GRANTED only when it makes a new link."""
    with transaction.atomic():
        paid = PlanInvoice.objects.select_for_update().filter(stripe_invoice_id=invoice_id).first()
        if paid is None or not payment_intent:
            return PlanResult(PlanOutcome.NOT_A_SUBSCRIPTION)
        if paid.payment_intent_id:
            return PlanResult(PlanOutcome.STALE, paid.subscription, paid)
        paid.payment_intent_id = payment_intent[:255]
        paid.save(update_fields=["payment_intent_id", "updated_at"])
    return PlanResult(PlanOutcome.PAYMENT_LINKED, paid.subscription, paid)


def record_plan_refund(payment_intent: str, amount_refunded: int) -> PlanResult | None:
    """A refund of a plan invoice's payment (Stripe's cumulative amount): what is left of its
    credits is taken back by the new amount only, the rest recorded as debt, like a pack's.
    None when the payment is no plan invoice's."""
    with transaction.atomic():
        locked = _locked_plan_invoice(payment_intent)
        if locked is None:
            return None
        balance, paid = locked
        refunded = min(max(amount_refunded, 0), paid.amount)
        if refunded <= paid.amount_refunded:
            return PlanResult(OrderOutcome.NO_CHANGE, paid.subscription, paid)
        paid.amount_refunded = refunded
        outcome = settle_paid_credits(balance, paid, "amount_refunded")
    return PlanResult(outcome, paid.subscription, paid)


def record_plan_dispute(payment_intent: str, dispute_id: str, status: str) -> PlanResult | None:
    """A dispute of a plan invoice's payment holds its credits; won, they come back."""
    with transaction.atomic():
        locked = _locked_plan_invoice(payment_intent)
        if locked is None:
            return None
        balance, paid = locked
        if paid.dispute_id == dispute_id and (
            paid.dispute_status == status or paid.dispute_status in DISPUTE_FINAL_STATUSES
        ):
            return PlanResult(OrderOutcome.NO_CHANGE, paid.subscription, paid)
        paid.dispute_id, paid.dispute_status = dispute_id[:255], status[:30]
        outcome = settle_paid_credits(balance, paid, "dispute_id", "dispute_status")
    return PlanResult(outcome, paid.subscription, paid)
