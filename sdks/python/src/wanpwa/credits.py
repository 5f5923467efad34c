"""`client.credits`: your balance, its ledger, the packs and plans on sale, auto-refill."""

from __future__ import annotations

from wanpwa._core import Listing, Op
from wanpwa._resource import Resource, async_iterating, awaitable, blocking, iterating
from wanpwa.models import AutoRefill, Checkout, CreditPack, Credits, LedgerEntry, Plan, Subscription


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

    def _auto_refill(self) -> Op[AutoRefill]:
        """Your auto-refill settings, and how many refills this month."""
        return self._core.call("GET", "/api/v1/credits/auto-refill/", AutoRefill.from_dict)

    def _set_auto_refill(
        self, *, enabled: bool, threshold: int, pack_id: int | None, monthly_max: int
    ) -> Op[AutoRefill]:
        """Buy the pack `pack_id` with the card saved in Billing whenever the balance falls
        below `threshold`, at most `monthly_max` times a calendar month (turning it on needs a
        saved card)."""
        settings = {
            "enabled": enabled,
            "threshold": threshold,
            "pack_id": pack_id,
            "monthly_max": monthly_max,
        }
        return self._core.call(
            "PUT", "/api/v1/credits/auto-refill/", AutoRefill.from_dict, json=settings
        )


class CreditsResource(CreditsBase):
    get = blocking(CreditsBase._get)
    ledger = iterating(CreditsBase._ledger)
    packs = blocking(CreditsBase._packs)
    checkout = blocking(CreditsBase._checkout)
    plans = blocking(CreditsBase._plans)
    subscribe = blocking(CreditsBase._subscribe)
    auto_refill = blocking(CreditsBase._auto_refill)
    set_auto_refill = blocking(CreditsBase._set_auto_refill)


class AsyncCreditsResource(CreditsBase):
    get = awaitable(CreditsBase._get)
    ledger = async_iterating(CreditsBase._ledger)
    packs = awaitable(CreditsBase._packs)
    checkout = awaitable(CreditsBase._checkout)
    plans = awaitable(CreditsBase._plans)
    subscribe = awaitable(CreditsBase._subscribe)
    auto_refill = awaitable(CreditsBase._auto_refill)
    set_auto_refill = awaitable(CreditsBase._set_auto_refill)
