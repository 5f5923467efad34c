from __future__ import annotations

from weakref import WeakKeyDictionary

from django.http import HttpRequest

from credits.selectors import HeaderCredits, header_credits
from generations.catalog import CHEAPEST_COST

# Each request's credits, read once: an HTMX answer renders the page's partial and then the
# extras. Entries go with their request.
_credits: WeakKeyDictionary[HttpRequest, HeaderCredits] = WeakKeyDictionary()


def credit_balance(request: HttpRequest) -> dict:
    """The header's balance, the low-credit warning (below the cheapest generation, so it lives
    with the catalog) and the banner of a plan whose payment failed, on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if request not in _credits:
        _credits[request] = header_credits(user)
    balance, plan_payment_failed = _credits[request]
    return {
        "credit_balance": balance,
        "low_credits": balance < CHEAPEST_COST,
        "plan_payment_failed": plan_payment_failed,
    }
