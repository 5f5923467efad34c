"""Billing pages: the packs on offer, checkout, the pages Stripe sends the buyer back to, and
the order list with receipts. Credits are never granted here: only the signed webhook does."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from credits import buckets, stripe_gateway
from credits.actions import cancel_checkout, purchasable_packs, start_checkout
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
    request: AuthenticatedHttpRequest, *, error: DomainError | None = None
) -> HttpResponse:
    context = {
        "packs": purchasable_packs(),
        "plans": available_plans(),
        "subscription": live_subscription(request.user),
        "plan_invoices": request.user.plan_invoices.select_related("plan")[:ORDERS_SHOWN],
        "subscribed": request.GET.get("plan") == "started",
        "orders": request.user.orders.select_related("pack")[:ORDERS_SHOWN],
        "debt": CreditBalance.objects.filter(user=request.user)
        .values_list("debt", flat=True)
        .first()
        or 0,
        "buckets": buckets.holding(request.user.pk),
        "now": timezone.now(),
        "error": error,
    }
    response = render(
        request, "credits/billing.html", context, status=error.status if error else 200
    )
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
