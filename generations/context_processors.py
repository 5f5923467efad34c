from __future__ import annotations

from weakref import WeakKeyDictionary

from django.http import HttpRequest

from credits.selectors import balance_of
from generations.catalog import CHEAPEST_COST

# Each request's balance, read once: an HTMX answer renders the page's partial and then the
# extras. Entries go with their request.
_balances: WeakKeyDictionary[HttpRequest, int] = WeakKeyDictionary()


def credit_balance(request: HttpRequest) -> dict:
    """The header's balance and the low-credit warning (below the cheapest generation, so it
    lives with the catalog), on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if request not in _balances:
        _balances[request] = balance_of(user)
    balance = _balances[request]
    return {"credit_balance": balance, "low_credits": balance < CHEAPEST_COST}
