"""The sign-up bonus: granted when an address is verified, once per address ever, from a daily
budget of its own.

- Once per address: a keyed hash (HMAC-SHA256 with a key derived from SECRET_KEY) of the
  normalised address is uniquely constrained in BonusClaim, and stays when the account goes.
  Normalising lower-cases the address and drops a "+tag" from the local part for every domain
  (plus addressing works at Gmail, Outlook, iCloud, Fastmail, Proton...), and at Gmail, where
  dots do not matter, the dots too: one mailbox is one bonus. Rotating SECRET_KEY starts the
  table afresh, so old addresses could claim again.
- Disposable addresses (the maintained `disposable-email-domains` list) get no bonus; the
  account itself works.
- The day's bonuses stop at SIGNUP_BONUS_DAILY_BUDGET credits. A bonus past it is deferred,
  not refused: it is claimed (so it counts once) and granted by the `grant_waiting_bonuses`
  job as soon as a day has budget left, oldest first. A real person who verified on a busy day
  gets their credits a day later instead of never.
"""

from __future__ import annotations

from enum import StrEnum

from disposable_email_domains import blocklist
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from credits.actions import add_credits, lock_balance
from credits.models import BonusBudgetDay, BonusClaim, TransactionType

HASH_SALT = "credits.bonus.address"
GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
WAITING_BATCH = 100


class BonusOutcome(StrEnum):
    GRANTED = "granted"
    WAITING = "waiting"  # the day's budget is spent; granted on a later day
    ADDRESS_USED = "address_used"  # this address already earned a bonus
    ACCOUNT_REWARDED = "account_rewarded"  # this account already has its bonus
    DISPOSABLE = "disposable"
    NO_BONUS = "no_bonus"  # SIGNUP_BONUS_CREDITS is 0


def normalise_address(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def address_hash(email: str) -> str:
    return salted_hmac(HASH_SALT, normalise_address(email), algorithm="sha256").hexdigest()


def is_disposable(email: str) -> bool:
    """The domain or any domain it is under is on the list (sub.mailinator.com too)."""
    labels = email.strip().lower().rpartition("@")[2].split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def claim_signup_bonus(user, email: str) -> BonusOutcome:
    """Called when `email` of `user` has just been verified."""
    credits = settings.SIGNUP_BONUS_CREDITS
    if credits <= 0:
        return BonusOutcome.NO_BONUS
    if is_disposable(email):
        return BonusOutcome.DISPOSABLE
    with transaction.atomic():
        lock_balance(user)  # serializes this user's claims
        if BonusClaim.objects.filter(user=user).exists():
            return BonusOutcome.ACCOUNT_REWARDED
        try:
            with transaction.atomic():
                claim = BonusClaim.objects.create(
                    address_hash=address_hash(email), user=user, credits=credits
                )
        except IntegrityError:  # the address's hash is taken
            return BonusOutcome.ADDRESS_USED
        if not _take_from_budget(credits):
            return BonusOutcome.WAITING
        _grant(claim)
    return BonusOutcome.GRANTED


def grant_waiting_bonuses() -> int:
    """Grants deferred bonuses, oldest first, while today's budget lasts; returns how many."""
    granted = 0
    waiting = BonusClaim.objects.filter(granted_at__isnull=True, user__isnull=False)
    for claim_id, user_id in waiting.order_by("created_at", "pk").values_list("pk", "user_id")[
        :WAITING_BATCH
    ]:
        with transaction.atomic():
            lock_balance(user_id)  # the balance first, as every credit change locks it
            claim = BonusClaim.objects.select_for_update().get(pk=claim_id)
            if claim.granted_at is not None or claim.user_id is None:
                continue
            if not _take_from_budget(claim.credits):
                break
            _grant(claim)
            granted += 1
    return granted


def _take_from_budget(credits: int) -> bool:
    """Adds `credits` to today's bonus total if it stays within the budget. The conditional
    UPDATE locks the day's row, so concurrent claims cannot overshoot together."""
    today = timezone.localdate()
    BonusBudgetDay.objects.get_or_create(day=today)
    within = settings.SIGNUP_BONUS_DAILY_BUDGET - credits
    return bool(
        BonusBudgetDay.objects.filter(day=today, credits__lte=within).update(
            credits=F("credits") + credits
        )
    )


def _grant(claim: BonusClaim) -> None:
    assert claim.user is not None  # a claim whose account is gone is skipped before this
    add_credits(claim.user, claim.credits, type=TransactionType.BONUS, description="Welcome bonus")
    claim.granted_at = timezone.now()
    claim.save(update_fields=["granted_at"])
