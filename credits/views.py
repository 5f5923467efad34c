"""Billing pages: the packs on offer, checkout, the pages Stripe sends the buyer back to, and
the order list with receipts. Credits are never granted here: only the signed webhook does."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from credits import auto_refill, buckets, low_balance, stripe_gateway
from credits.actions import cancel_checkout, get_balance, purchasable_packs, start_checkout
from credits.forms import AutoRefillForm, LowBalanceForm
from credits.models import CreditBalance, Order, OrderStatus
from credits.subscriptions import available_plans, live_subscription, portal_url, subscribe
from wan_pwa.errors import DomainError
from wan_pwa.http import AuthenticatedHttpRequest
from wan_pwa.middleware import content_security_policy

ORDERS_SHOWN = 50


def checkout_urls() -> tuple[str, str]:
    """Where Stripe sends the buyer back; `{order_id}` is filled in by start_checkout and
    `{CHECKOUT_SESSION_ID}` by Stripe."""
    orders = settings.SITE_URL + reverse("billing") + "orders/{order_id}/"
    return orders + "success/?session_id={CHECKOUT_SESSION_ID}", orders + "cancel/"


def _billing(
    request: AuthenticatedHttpRequest,
    *,
    error: DomainError | None = None,
    low_balance_form: LowBalanceForm | None = None,
    auto_refill_form: AutoRefillForm | None = None,
) -> HttpResponse:
    balance = get_balance(CreditBalance.objects.all(), request.user)
    refill = auto_refill.settings_of(request.user)
    context = {
        "packs": purchasable_packs(),
        "plans": available_plans(),
        "subscription": live_subscription(request.user),
        "plan_invoices": request.user.plan_invoices.select_related("plan")[:ORDERS_SHOWN],
        "subscribed": request.GET.get("plan") == "started",
        "orders": request.user.orders.select_related("pack")[:ORDERS_SHOWN],
        "debt": balance.debt,
        "buckets": buckets.holding(request.user.pk),
        "now": timezone.now(),
        "error": error,
        "alert_threshold": low_balance.threshold_of(balance),
        "low_balance_form": low_balance_form
        or LowBalanceForm(initial={"threshold": balance.low_balance_threshold}),
        "auto_refill": refill,
        "refills_this_month": auto_refill.refills_this_month(request.user.pk),
        "auto_refill_form": auto_refill_form
        or AutoRefillForm(
            initial={
                "enabled": refill.enabled,
                "threshold": refill.threshold,
                "pack": refill.pack_id,
                "monthly_max": refill.monthly_max,
            }
        ),
    }
    invalid = any(form is not None for form in (low_balance_form, auto_refill_form))
    status = error.status if error else 400 if invalid else 200
    response = render(request, "credits/billing.html", context, status=status)
    # The buy forms' redirect leads to Stripe's page, which form-action 'self' would block.
    policy = content_security_policy(storages["default"])
    origins = {stripe_gateway.checkout_origin(), stripe_gateway.portal_origin()}
    response["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {' '.join(sorted(origins))}"
    )
    return response


@login_required
@require_safe
def billing(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _billing(request)


@login_required
@require_POST
def checkout(request: AuthenticatedHttpRequest) -> HttpResponse:
    success_url, cancel_url = checkout_urls()
    try:
        checkout = start_checkout(
            request.user,
            request.POST.get("pack", ""),
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except DomainError as error:  # unknown pack, too many open, Stripe unreachable: no charge
        return _billing(request, error=error)
    return redirect(checkout.order.checkout_url)


@login_required
@require_POST
def low_balance_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LowBalanceForm(request.POST)
    if not form.is_valid():
        return _billing(request, low_balance_form=form)
    low_balance.set_threshold(request.user, form.cleaned_data["threshold"])
    messages.success(request, "Low-balance alert saved.")
    return redirect(reverse("billing") + "#low-balance")


@login_required
@require_POST
def auto_refill_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AutoRefillForm(request.POST)
    if not form.is_valid():
        return _billing(request, auto_refill_form=form)
    try:
        auto_refill.save_settings(
            request.user,
            auto_refill.Choice(
                enabled=form.cleaned_data["enabled"],
                threshold=form.cleaned_data["threshold"],
                pack_id=form.cleaned_data["pack"],
                monthly_max=form.cleaned_data["monthly_max"],
            ),
        )
    except auto_refill.AutoRefillError as error:
        form.add_error(None, error.message)
        return _billing(request, auto_refill_form=form)
    messages.success(request, "Auto-refill saved.")
    return redirect(reverse("billing") + "#auto-refill")


@login_required
@require_POST
def save_card(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sends the user to Stripe's page (Checkout in setup mode) to save a card for refills;
    the card is recorded when Stripe's signed webhook says the setup completed."""
    billing = settings.SITE_URL + reverse("billing")
    try:
        url = auto_refill.start_card_setup(
            request.user,
            success_url=billing + "?card=saving#auto-refill",
            cancel_url=billing + "#auto-refill",
        )
    except DomainError as error:  # Stripe unreachable
        return _billing(request, error=error)
    return redirect(url)


@login_required
@require_safe
@vary_on_headers("HX-Request")
def success(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Says the payment is being confirmed and polls (htmx) until the webhook has credited it."""
    order = get_object_or_404(Order, pk=pk, user=request.user)
    template = "credits/success.html#status" if request.htmx else "credits/success.html"
    return render(request, template, {"order": order, "paid": order.status == OrderStatus.PAID})


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Where Stripe sends a buyer who turns back (a GET we cannot make a POST), and what the
    Cancel button in Billing posts to: Stripe expires the session and the order is closed, so
    Billing never shows an abandoned checkout as awaiting payment. It only ever ends the
    signed-in user's own unpaid checkout, which they can start again."""
    order = get_object_or_404(Order, pk=pk, user=request.user)
    error = None
    try:
        cancel_checkout(order)
    except DomainError as unavailable:  # Stripe unreachable: the order stays as it was
        error = unavailable
    order.refresh_from_db()
    return render(
        request,
        "credits/cancel.html",
        {"order": order, "error": error},
        status=error.status if error else 200,
    )


@login_required
@require_safe
def receipt(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk, user=request.user, status=OrderStatus.PAID)
    return render(request, "credits/receipt.html", {"order": order})


def plan_urls() -> dict[str, str]:
    """Where Stripe sends the user back from a plan's checkout and from the portal."""
    billing_url = settings.SITE_URL + reverse("billing")
    return {
        "success_url": billing_url + "?plan=started",
        "cancel_url": billing_url,
        "return_url": billing_url,
    }


@login_required
@require_POST
def subscribe_to_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sends the user to pay for the plan, or to the portal when they have a plan already."""
    try:
        result = subscribe(request.user, request.POST.get("plan", ""), **plan_urls())
    except DomainError as error:  # unknown plan, Stripe unreachable: nothing charged
        return _billing(request, error=error)
    return redirect(result.url)


@login_required
@require_POST
def manage_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A Customer Portal session for the user (change plan, cancel, fix the card)."""
    try:
        url = portal_url(request.user, return_url=plan_urls()["return_url"])
    except DomainError as error:
        return _billing(request, error=error)
    return redirect(url)
