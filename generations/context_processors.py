from __future__ import annotations

from django.http import HttpRequest

from credits.selectors import balance_of
from generations.catalog import CHEAPEST_COST


def credit_balance(request: HttpRequest) -> dict:
    """The header's balance and the low-credit warning (below the cheapest generation, so it
    lives with the catalog), on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Read once per request: an HTMX answer renders the page's partial and then the extras.
    if not hasattr(request, "_credit_balance"):
        request._credit_balance = balance_of(user)  # type: ignore[attr-defined]
    balance = request._credit_balance  # type: ignore[attr-defined]
    return {"credit_balance": balance, "low_credits": balance < CHEAPEST_COST}
