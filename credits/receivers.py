"""Credits' answers to the accounts' signals (accounts import no app, so they announce, and
credits listen). Connected when CreditsConfig.ready() imports this module."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.conf import settings
from django.contrib import messages
from django.dispatch import receiver
from django.http import HttpRequest

from credits.actions import open_credit_account
from credits.bonus import BonusOutcome, claim_signup_bonus
from credits.models import (
    AutoRefill,
    CreditBalance,
    CreditBucket,
    CreditTransaction,
    Order,
    PlanInvoice,
)
from credits.subscriptions import end_plan_of_closed_account
from wan_pwa.accounts.export_archive import ExportSection
from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import collecting_data_export, deleting_account, user_created


@receiver(user_created, dispatch_uid="credits.open_account_of_new_user")
def open_account_of_new_user(sender: type[User], user: User, **kwargs: object) -> None:
    """The balance row, inside the transaction creating the user: no user exists without it,
    and a failure here undoes the user too."""
    open_credit_account(user)


BONUS_MESSAGES = {
    BonusOutcome.GRANTED: (
        messages.SUCCESS,
        "Your address is verified: {credits} free credits are in your balance.",
    ),
    BonusOutcome.WAITING: (
        messages.INFO,
        "Your address is verified. Today's free credits have all been given out: your "
        "{credits} credits arrive as soon as tomorrow's budget opens.",
    ),
    BonusOutcome.ADDRESS_USED: (
        messages.INFO,
        "Your address is verified. It already received its free credits once, so there are "
        "none this time.",
    ),
    BonusOutcome.DISPOSABLE: (
        messages.INFO,
        "Your address is verified, but addresses from disposable mail services get no free "
        "credits. Add a permanent address in Settings to get them.",
    ),
}


@receiver(email_confirmed, dispatch_uid="credits.bonus_on_verified_address")
def grant_bonus_on_verified_address(
    sender: object, request: HttpRequest | None, email_address: EmailAddress, **kwargs: object
) -> None:
    outcome = claim_signup_bonus(email_address.user, email_address.email)
    if request is not None and outcome in BONUS_MESSAGES:
        level, text = BONUS_MESSAGES[outcome]
        messages.add_message(request, level, text.format(credits=settings.SIGNUP_BONUS_CREDITS))


@receiver(collecting_data_export, dispatch_uid="credits.export_ledger_and_orders")
def export_ledger_orders_and_buckets(
    sender: type[User], user: User, **kwargs: object
) -> list[ExportSection]:
    ledger = [
        {
            "created_at": entry.created_at,
            "type": entry.type,
            "amount": entry.amount,
            "balance_after": entry.balance_after,
            "description": entry.description,
            "generation": entry.generation_id,
            "order": entry.order_id,
            "plan_invoice": entry.plan_invoice_id,
        }
        for entry in CreditTransaction.objects.filter(user=user).order_by("created_at", "pk")
    ]
    orders = [
        {
            "id": order.pk,
            "created_at": order.created_at,
            "pack": order.pack.name,
            "credits": order.credits,
            "amount": order.amount,
            "currency": order.currency,
            "status": order.status,
            "paid_at": order.paid_at,
            "amount_refunded": order.amount_refunded,
            "dispute_status": order.dispute_status,
            "auto_refill": order.is_refill,
        }
        for order in Order.objects.filter(user=user).select_related("pack").order_by("pk")
    ]
    refill = AutoRefill.objects.filter(user=user).select_related("pack").first()
    alerts = CreditBalance.objects.filter(user=user).first()
    credit_settings = {
        "low_balance_threshold": alerts.low_balance_threshold if alerts else None,
        "auto_refill": {
            "enabled": refill.enabled,
            "threshold": refill.threshold,
            "pack": refill.pack.name if refill.pack else None,
            "monthly_max": refill.monthly_max,
            "card": refill.card_label,
        }
        if refill
        else None,
    }
    plan_invoices = [
        {
            "plan": invoice.plan.name,
            "period_start": invoice.period_start,
            "period_end": invoice.period_end,
            "credits": invoice.credits,
            "amount": invoice.amount,
            "currency": invoice.currency,
            "amount_refunded": invoice.amount_refunded,
            "dispute_status": invoice.dispute_status,
        }
        for invoice in PlanInvoice.objects.filter(user=user).select_related("plan").order_by("pk")
    ]
    buckets = [
        {
            "created_at": bucket.created_at,
            "source": bucket.source,
            "granted": bucket.granted,
            "remaining": bucket.remaining,
            "expires_at": bucket.expires_at,
        }
        for bucket in CreditBucket.objects.filter(user=user).order_by("pk")
    ]
    return [
        ExportSection("ledger", ledger),
        ExportSection("orders", orders),
        ExportSection("plan_invoices", plan_invoices),
        ExportSection("credit_buckets", buckets),
        ExportSection("credit_settings", credit_settings),
    ]


@receiver(deleting_account, dispatch_uid="credits.end_plan_of_closed_account")
def end_plan(sender: type[User], user: User, **kwargs: object) -> None:
    end_plan_of_closed_account(user)
