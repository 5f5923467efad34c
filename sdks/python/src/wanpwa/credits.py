"""`client.credits`: your balance, its ledger, the packs and plans on sale."""

from __future__ import annotations

from wanpwa._core import Listing, Op
from wanpwa._resource import Resource, async_iterating, awaitable, blocking, iterating
from wanpwa.models import Checkout, CreditPack, Credits, LedgerEntry, Plan, Subscription


class CreditsBase(Resource):
    def _get(self) -> Op[Credits]:
        """Your balance now."""
        return self._core.call("GET", "/api/v1/credits/", Credits.from_dict)

    def _ledger(self, *, page_size: int | None = None) -> Listing[LedgerEntry]:
        """Every change of your balance, newest first, with the balance it left."""
        return Listing("/api/v1/credits/ledger/", {"page_size": page_size}, LedgerEntry.from_dict)

    def _packs(self) -> Op[list[CreditPack]]:
        """The credit packs on sale."""
        return self._core.call(
            "GET", "/api/v1/credits/packs/", lambda body: [CreditPack.from_dict(p) for p in body]
        )

    def _checkout(self, pack_id: int) -> Op[Checkout]:
        """An order for a pack: send the buyer to `checkout_url` to pay."""
        return self._core.call(
            "POST", "/api/v1/credits/checkout/", Checkout.from_dict, json={"pack_id": pack_id}
        )

    def _plans(self) -> Op[list[Plan]]:
        """The monthly plans on sale."""
        return self._core.call(
            "GET", "/api/v1/credits/plans/", lambda body: [Plan.from_dict(p) for p in body]
        )

    def _subscribe(self, plan_id: int) -> Op[Subscription]:
        """Where to pay for a plan (or, with a plan already, to change it)."""
        return self._core.call(
            "POST", "/api/v1/credits/subscribe/", Subscription.from_dict, json={"plan_id": plan_id}
        )


class CreditsResource(CreditsBase):
    get = blocking(CreditsBase._get)
    ledger = iterating(CreditsBase._ledger)
    packs = blocking(CreditsBase._packs)
    checkout = blocking(CreditsBase._checkout)
    plans = blocking(CreditsBase._plans)
    subscribe = blocking(CreditsBase._subscribe)


class AsyncCreditsResource(CreditsBase):
    get = awaitable(CreditsBase._get)
    ledger = async_iterating(CreditsBase._ledger)
    packs = awaitable(CreditsBase._packs)
    checkout = awaitable(CreditsBase._checkout)
    plans = awaitable(CreditsBase._plans)
    subscribe = awaitable(CreditsBase._subscribe)
