from __future__ import annotations

from django.http import HttpRequest

from credits.models import Subscription, SubscriptionStatus


def plan_payment_failed(request: HttpRequest) -> dict:
    """The banner on every page while the user's plan has a failed payment to fix."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    failing = Subscription.objects.filter(
        user=user, status__in=[SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID]
    )
    return {"plan_payment_failed": failing.exists()}
