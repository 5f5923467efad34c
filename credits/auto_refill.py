"""Auto-refill: when a balance falls below the user's threshold, their chosen pack is bought
off-session with the card they saved through Checkout (setup mode), at most `monthly_max` times
a calendar month.

A refill is an Order like any pack (receipts, refunds, disputes), created by the transaction
whose decrease crossed the threshold, with a key unique to that crossing (the user and their
refill counter) and at most one refill in flight per user (a database constraint). A task then
asks Stripe for the payment with that key as its idempotency key; the credits come only from the
signed `payment_intent.succeeded` webhook (credits.actions.fulfil_refill). A payment Stripe
refuses (the bank wants the customer, or declines) fails the order, turns auto-refill off and
tells the user, who can buy the pack on-session in Billing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from credits import stripe_gateway
from credits.customers import ensure_stripe_customer
from credits.models import (
    MAX_REFILLS_PER_MONTH,
    MAX_THRESHOLD,
    AutoRefill,
    CreditBalance,
    CreditPack,
    Order,
    OrderStatus,
    StripeCustomer,
)
from credits.selectors import locked_balance
from wan_pwa.accounts.models import User
from wan_pwa.accounts.tasks import mail_data, send_account_mail
from wan_pwa.errors import DomainError

logger = logging.getLogger(__name__)

# A refill is someone's balance running out: before generation follow-ups, after submissions.
REFILL_PRIORITY = 25
# Stripe unreachable: tries with doubling delays, then the refill is given up (auto-refill
# stays on, and the next decrease below the threshold tries again).
CHARGE_ATTEMPTS = 5
CHARGE_RETRY_SECONDS = 30
# Clicks on "Save a card" within this window open one Checkout Session.
CARD_SETUP_WINDOW = timedelta(minutes=10)


class AutoRefillError(DomainError):
    code = "invalid_auto_refill"


@dataclass(frozen=True)
class Choice:
    enabled: bool
    threshold: int
    pack_id: object
    monthly_max: int


def settings_of(user: User) -> AutoRefill:
    """The user's auto-refill settings (off, with the defaults, until they save them)."""
    return AutoRefill.objects.filter(user=user).first() or AutoRefill(user=user)


def refills_this_month(user_id: int) -> int:
    """Refills started this calendar month that were not refused: paid or in flight."""
    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Order.objects.filter(
        user_id=user_id,
        refill_key__isnull=False,
        created_at__gte=start,
        status__in=[OrderStatus.PENDING, OrderStatus.PAID],
    ).count()


def _pack(pack_id: object) -> CreditPack:
    try:
        return CreditPack.objects.get(
            pk=int(str(pack_id)), active=True, currency=settings.BILLING_CURRENCY
        )
    except (ValueError, OverflowError, CreditPack.DoesNotExist):
        raise AutoRefillError("Pick one of the credit packs on offer.") from None


def save_settings(user: User, choice: Choice) -> AutoRefill:
    """Saves the user's choice. Turning it on needs a saved card, and arms it: the next
    decrease below the threshold refills even if the balance is below it already."""
    if not (isinstance(choice.threshold, int) and 1 <= choice.threshold <= MAX_THRESHOLD):
        raise AutoRefillError(f"The threshold must be from 1 to {MAX_THRESHOLD:,} credits.")
    monthly_max = choice.monthly_max
    if not (isinstance(monthly_max, int) and 1 <= monthly_max <= MAX_REFILLS_PER_MONTH):
        raise AutoRefillError(
            f"The monthly maximum must be from 1 to {MAX_REFILLS_PER_MONTH} refills."
        )
    pack = _pack(choice.pack_id)
    with transaction.atomic():
        locked_balance(user)
        refill, _ = AutoRefill.objects.get_or_create(user=user)
        if choice.enabled and not refill.payment_method_id:
            raise AutoRefillError("Save a card first: refills are paid with it.")
        refill.threshold, refill.pack, refill.monthly_max = (
            choice.threshold,
            pack,
            choice.monthly_max,
        )
        if choice.enabled and not refill.enabled:
            refill.armed, refill.stopped_reason = True, ""
        refill.enabled = choice.enabled
        refill.save()
    return refill


def start_card_setup(user: User, *, success_url: str, cancel_url: str) -> str:
    """A Checkout Session in setup mode for the user's Customer; returns its URL. Repeated
    clicks within CARD_SETUP_WINDOW share one session (the idempotency key)."""
    customer = ensure_stripe_customer(user)
    current = settings_of(user).payment_method_id or "none"
    window = int(timezone.now().timestamp() // CARD_SETUP_WINDOW.total_seconds())
    session = stripe_gateway.create_setup_session(
        customer=customer,
        currency=settings.BILLING_CURRENCY,
        idempotency_key=f"wan-card-setup-{user.pk}-{current}-{window}",
        success_url=success_url,
        cancel_url=cancel_url,
    )
    return session.url


def save_card(customer_id: str, setup_intent_id: str) -> bool:
    """A completed setup session of this Customer saved a card (from its signed webhook): it
    becomes the user's refill card. False for a Customer that is not one of ours."""
    user_id = (
        StripeCustomer.objects.filter(stripe_customer_id=customer_id)
        .values_list("user_id", flat=True)
        .first()
    )
    if user_id is None:
        return False
    card = stripe_gateway.saved_card(setup_intent_id)
    with transaction.atomic():
        CreditBalance.objects.select_for_update().get(user_id=user_id)
        refill, _ = AutoRefill.objects.get_or_create(user_id=user_id)
        refill.payment_method_id, refill.card_label = card.payment_method_id, card.label
        refill.save(update_fields=["payment_method_id", "card_label", "updated_at"])
    return True


def refill_if_due(balance: CreditBalance, *, before: int) -> None:
    """Called with the locked balance row that just went down from `before`: starts one refill
    when it crossed the user's threshold (or is below it and auto-refill is armed), unless a
    refill is in flight or the month's maximum is reached."""
    refill = AutoRefill.objects.filter(user_id=balance.user_id, enabled=True).first()
    if refill is None or balance.balance >= refill.threshold:
        return
    if before < refill.threshold and not refill.armed:
        return  # this crossing has had its refill (or its chance of one)
    in_flight = Order.objects.filter(
        user_id=balance.user_id, refill_key__isnull=False, status=OrderStatus.PENDING
    ).exists()
    if in_flight or refills_this_month(balance.user_id) >= refill.monthly_max:
        return
    assert refill.pack is not None  # an enabled refill has one (constraint)
    pack = refill.pack
    refill.refills_started += 1
    refill.armed = False
    refill.save(update_fields=["refills_started", "armed", "updated_at"])
    order = Order.objects.create(
        user_id=balance.user_id,
        pack=pack,
        credits=pack.credits,
        amount=pack.price,
        currency=pack.currency,
        refill_key=f"wan-refill-{balance.user_id}-{refill.refills_started}",
    )
    charge_refill.enqueue(order.pk)


@task(priority=REFILL_PRIORITY)
def charge_refill(order_id: int, attempt: int = 1) -> None:
    """Asks Stripe to charge the saved card for the refill order. The credits come with the
    payment's webhook; a refusal fails the order and turns auto-refill off."""
    order = Order.objects.filter(pk=order_id, refill_key__isnull=False).first()
    if order is None or order.status != OrderStatus.PENDING or order.payment_intent_id:
        return
    assert order.refill_key is not None
    refill = AutoRefill.objects.get(user_id=order.user_id)
    customer = StripeCustomer.objects.filter(user_id=order.user_id).first()
    if not refill.enabled:  # turned off since the fall: nothing is charged
        _close_unpaid(order.pk, OrderStatus.CANCELED)
        return
    if customer is None or not refill.payment_method_id:
        refill_refused(order.pk, "no_card", "No card is saved for auto-refill.")
        return
    try:
        intent = stripe_gateway.charge_saved_card(
            customer=customer.stripe_customer_id,
            payment_method=refill.payment_method_id,
            amount=order.amount,
            currency=order.currency,
            order_id=order.pk,
            description=f"Auto-refill: {order.credits:,} Wan PWA credits",
            idempotency_key=order.refill_key,
        )
    except stripe_gateway.CardNeedsCustomer as refused:
        refill_refused(order.pk, refused.reason, refused.message)
        return
    except stripe_gateway.PaymentsUnavailable:
        if attempt < CHARGE_ATTEMPTS:
            run_after = timezone.now() + timedelta(seconds=CHARGE_RETRY_SECONDS * 2**attempt)
            charge_refill.using(run_after=run_after).enqueue(order_id, attempt + 1)
        else:
            logger.warning("refill order #%s: Stripe could not be reached; given up", order.pk)
            _close_unpaid(order.pk, OrderStatus.FAILED, rearm=True)
        return
    # The webhook may have come first and recorded it already.
    Order.objects.filter(pk=order.pk, payment_intent_id="").update(payment_intent_id=intent.id)


def _close_unpaid(order_id: int, status: OrderStatus, *, rearm: bool = False) -> None:
    """Ends a pending refill that was never charged; `rearm` lets the next fall try again."""
    with transaction.atomic():
        order = _locked_pending_refill(order_id)
        if order is None:
            return
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        if rearm:
            AutoRefill.objects.filter(user_id=order.user_id).update(armed=True)


def _locked_pending_refill(order_id: int) -> Order | None:
    """The refill order, locked after its user's balance row (the lock order), while pending."""
    user_id = Order.objects.filter(pk=order_id).values_list("user_id", flat=True).first()
    if user_id is None:
        return None
    CreditBalance.objects.select_for_update().get(user_id=user_id)
    order = Order.objects.select_for_update().select_related("user").get(pk=order_id)
    return order if order.is_refill and order.status == OrderStatus.PENDING else None


def refill_refused(order_id: int, reason: str, message: str) -> bool:
    """Stripe refused the refill's payment (the bank wants the customer, or declined it): the
    order fails, auto-refill turns itself off and the user is told by e-mail, and by a banner in
    Billing, with the way to buy the pack themselves. Once per order whoever reports it first
    (the charging task or the payment_failed webhook); False if it changed nothing."""
    with transaction.atomic():
        order = _locked_pending_refill(order_id)
        if order is None:
            return False
        order.status = OrderStatus.FAILED
        order.save(update_fields=["status", "updated_at"])
        why = (
            "your bank asked to confirm the payment, which needs you"
            if reason == "authentication_required"
            else f"the card was refused ({message.rstrip('.')})"
        )
        AutoRefill.objects.filter(user_id=order.user_id).update(
            enabled=False,
            stopped_reason=f"Auto-refill is off: {why}. Buy credits below to pay yourself."[:255],
            updated_at=timezone.now(),
        )
        if order.user.email:
            send_account_mail.enqueue(mail_data(_refused_mail(order, why)))
    return True


def refill_refused_payment(order_id: int, intent: stripe_gateway.PaymentIntent) -> bool:
    """refill_refused, for the failed PaymentIntent Stripe shows (a webhook, the reconcile
    job)."""
    return refill_refused(
        order_id,
        intent.error_code or "card_declined",
        intent.error_message or "The card was declined.",
    )


def _refused_mail(order: Order, why: str) -> EmailMessage:
    billing = settings.SITE_URL + reverse("billing")
    return EmailMessage(
        subject="Auto-refill could not buy your credits",
        body=(
            f"Auto-refill tried to buy {order.credits:,} credits with your saved card, but "
            f"{why}. Nothing was charged, and auto-refill is now off.\n\n"
            f"Buy the pack yourself, and turn auto-refill back on, in Billing:\n{billing}\n"
        ),
        to=[order.user.email],
    )
