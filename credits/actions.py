"""The only code that changes a credit balance.

Every action locks the user's balance row, writes one ledger row and the new balance in the same
transaction. Callers that also change other rows (a generation) call these inside their own
`transaction.atomic()` so everything commits or nothing does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from credits import buckets, stripe_gateway
from credits.low_balance import balance_decreased
from credits.models import (
    DISPUTE_FINAL_STATUSES,
    GRANT_TYPES,
    CreditBalance,
    CreditPack,
    CreditTransaction,
    Order,
    OrderStatus,
    PaidCredits,
    PlanInvoice,
    TransactionType,
)
from credits.stripe_gateway import CheckoutSession, PaymentIntent
from wan_pwa.accounts.models import User
from wan_pwa.errors import DomainError
from wan_pwa.outgoing_webhooks.events import record_event
from wan_pwa.outgoing_webhooks.models import EventType


class CreditError(DomainError):
    """A credit operation that cannot be done, with a sentence a user or operator can read."""

    code = "credit_error"


class InsufficientCredits(CreditError):
    code = "insufficient_credits"
    status = 402

    def __init__(self, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        super().__init__(f"This needs {needed} credits but only {available} are available.")

    def extra(self) -> dict[str, int]:
        return {"needed": self.needed, "available": self.available}


class CreditDebtOutstanding(CreditError):
    """A user who owes credits (a refunded or disputed purchase they had spent) starts nothing
    until a purchase pays the debt."""

    code = "credit_debt"
    status = 402

    def __init__(self, debt: int) -> None:
        self.debt = debt
        super().__init__(
            f"You owe {debt} credits from a refunded or disputed payment. Buy credits in "
            "Billing to pay it off, then start your video."
        )

    def extra(self) -> dict[str, int]:
        return {"debt": self.debt}


def lock_balance(user: User | int) -> CreditBalance:
    """The user's (or the user id's) balance row, locked until the caller's transaction ends:
    what serializes every credit change of one user, and every submission of theirs. Credits
    that expired are written off first, so the balance is what can be spent."""
    balance = _lock_only(user)
    expire_due_credits(balance)
    return balance


def _lock_only(user: User | int) -> CreditBalance:
    """lock_balance without writing off expired credits: for what only adds credits."""
    return get_balance(CreditBalance.objects.select_for_update(), user)


def expire_due_credits(balance: CreditBalance) -> int:
    """Writes off what is left of the user's expired buckets, one `expiry` ledger row each,
    under the balance lock the caller holds; returns how many. Run by lock_balance, and for
    users who change nothing by the `expire_buckets` job."""
    due = buckets.due(balance.user_id, timezone.now())
    for bucket in due:
        row = _write(
            balance,
            amount=-bucket.remaining,
            type=TransactionType.EXPIRY,
            description=f"{bucket.label.capitalize()} expired "
            f"({bucket.granted:,} granted {bucket.created_at:%-d %B %Y})",
        )
        buckets.expire(row, bucket)
    return len(due)


def expire_credits(user: User | int) -> int:
    """The expiry job's write for one user: locks the balance, which writes off what expired.
    Returns the number of buckets written off (0 when run again)."""
    with transaction.atomic():
        return expire_due_credits(_lock_only(user))


def get_balance(query: QuerySet[CreditBalance], user: User | int) -> CreditBalance:
    """The user's balance row through `query` (which may lock it), created if missing."""
    try:
        return query.get(user=user)
    except CreditBalance.DoesNotExist:
        # A user made outside the manager (raw ORM); the primary key on user makes two
        # concurrent creations collapse into one row.
        CreditBalance.objects.get_or_create(user=user)
        return query.get(user=user)


def _write(
    balance: CreditBalance,
    *,
    amount: int,
    type: str,
    description: str,
    generation=None,
    order=None,
    plan_invoice=None,
    created_by: User | None = None,
) -> CreditTransaction:
    new_balance = balance.balance + amount
    if new_balance < 0:
        raise InsufficientCredits(needed=-amount, available=balance.balance)
    balance.balance = new_balance
    balance.save(update_fields=["balance", "debt", "updated_at"])
    if amount < 0:
        balance_decreased(balance, before=new_balance - amount)
    return CreditTransaction.objects.create(
        user_id=balance.user_id,
        amount=amount,
        type=type,
        generation=generation,
        order=order,
        plan_invoice=plan_invoice,
        description=description[:255],
        balance_after=new_balance,
        created_by=created_by,
    )


def open_credit_account(user: User) -> None:
    """The balance row for a new user, in the caller's transaction. The sign-up bonus comes
    later, when the address is verified (credits/bonus.py)."""
    # By id: `user=user` would cache this row on the user at 0, and later grants go through a
    # locked copy, so `user.credit_balance` would read 0 afterwards.
    CreditBalance.objects.create(user_id=user.pk)


def add_credits(
    user: User,
    amount: int,
    *,
    type: str = TransactionType.ADJUSTMENT,
    description: str = "",
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> CreditTransaction:
    """A bonus, a purchase, or a signed staff adjustment that never takes the balance below 0.
    Added credits make a bucket expiring at `expires_at` (None: never); removed ones are drawn
    from the buckets in spending order."""
    if type not in GRANT_TYPES:
        raise CreditError(f"Credits can only be added as {', '.join(GRANT_TYPES)}, not {type!r}.")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise CreditError("The amount must be a whole number other than zero.")
    if amount < 0 and type != TransactionType.ADJUSTMENT:
        raise CreditError("Only an adjustment can remove credits.")
    if expires_at is not None and (amount < 0 or expires_at <= timezone.now()):
        raise CreditError("Only added credits expire, and their expiry must be in the future.")
    with transaction.atomic():
        balance = lock_balance(user)
        if balance.balance + amount < 0:
            raise CreditError(
                f"Removing {-amount} credits would leave {user} with a negative balance "
                f"(they have {balance.balance})."
            )
        row = _write(
            balance, amount=amount, type=type, description=description, created_by=created_by
        )
        if amount > 0:
            buckets.fill(row, amount, expires_at=expires_at)
        else:
            buckets.draw(row, -amount, timezone.now())
        return row


def charge_generation(generation, balance: CreditBalance | None = None) -> CreditTransaction:
    """Take the generation's cost; InsufficientCredits if the balance cannot cover it.

    `balance` is the user's row when the caller already locked it (lock_balance) in the
    transaction that creates the generation.
    """
    if balance is None:
        with transaction.atomic():
            return charge_generation(generation, lock_balance(generation.user))
    if balance.balance < generation.cost:
        raise InsufficientCredits(needed=generation.cost, available=balance.balance)
    row = _write(
        balance,
        amount=-generation.cost,
        type=TransactionType.DEDUCTION,
        generation=generation,
        description=f"Generation #{generation.pk} ({generation.model_key} {generation.resolution})",
    )
    try:
        buckets.draw(row, generation.cost, timezone.now())
    except buckets.BucketsShort as short:
        # The caller's transaction rolls the ledger row back with the generation.
        raise InsufficientCredits(needed=short.needed, available=short.available) from None
    return row


def refund_generation_charge(generation, *, reason: str = "") -> CreditTransaction | None:
    """Give back what the generation was charged, exactly once.

    Returns the refund row, or None when there is nothing to refund (already refunded, or never
    charged). The check runs under the balance lock; the one-refund-per-generation constraint and
    the refund-matches-deduction trigger back it in the database.
    """
    with transaction.atomic():
        # A refund only adds credits, to buckets it checks itself: nothing to write off first.
        balance = _lock_only(generation.user)
        charges = {
            row.type: row
            for row in CreditTransaction.objects.filter(
                generation=generation,
                type__in=[TransactionType.DEDUCTION, TransactionType.REFUND],
            )
        }
        deduction = charges.get(TransactionType.DEDUCTION)
        if deduction is None or TransactionType.REFUND in charges:
            return None
        row = _write(
            balance,
            amount=-deduction.amount,
            type=TransactionType.REFUND,
            generation=generation,
            description=f"Refund for generation #{generation.pk}"
            + (f": {reason}" if reason else ""),
        )
        buckets.give_back(row, deduction, timezone.now())
        return row


# Purchases -------------------------------------------------------------------------------------
# Lock order: the user's balance row, then their order rows by ascending id.


class UnknownPack(CreditError):
    code = "unknown_pack"

    def __init__(self) -> None:
        super().__init__("Pick one of the credit packs on offer.")


class OrderOutcome(StrEnum):
    """What a payment event did, recorded with the event."""

    GRANTED = "granted"
    ALREADY_GRANTED = "already_granted"
    AWAITING_PAYMENT = "awaiting_payment"
    CLOSED = "closed"
    UNKNOWN_ORDER = "unknown_order"
    MISMATCH = "mismatch"
    UNKNOWN_PAYMENT = "unknown_payment"
    TAKEN_BACK = "taken_back"
    GIVEN_BACK = "given_back"
    NO_CHANGE = "no_change"
    CARD_SAVED = "card_saved"


@dataclass(frozen=True)
class OrderResult:
    """What a payment event did, with the order it concerns (None when there is none here), so
    the caller records the link without looking the order up again."""

    outcome: OrderOutcome
    order: Order | None = None


def purchasable_packs():
    return CreditPack.objects.filter(active=True, currency=settings.BILLING_CURRENCY)


class TooManyOpenCheckouts(CreditError):
    """A user with MAX_OPEN_CHECKOUTS orders awaiting payment opens no other: each one is a
    Checkout Session at Stripe, and they cost its rate limit and our orders table."""

    code = "too_many_open_checkouts"
    status = 429

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"You already have {limit} checkouts awaiting payment. Pay for one of them or cancel "
            "it in Billing before starting another.",
            retry_after=retry_after,
        )


@dataclass(frozen=True)
class Checkout:
    order: Order
    reused: bool  # the user's open order for the pack, with the same Checkout Session


# A Checkout Session lives at most a day at Stripe (and ours keep that default), so an order
# older than this is not awaiting payment whatever its row still says.
CHECKOUT_LIFETIME = timedelta(hours=24)
# An open session is handed out again only if it leaves the buyer this long to pay.
REUSE_MARGIN = timedelta(minutes=10)


def start_checkout(user: User, pack_id: object, *, success_url: str, cancel_url: str) -> Checkout:
    """The user's pending order for the pack, with its Checkout Session: the one they already
    have open when Stripe says it is still open, else a new one; the caller sends the user to
    `order.checkout_url`. `success_url` may hold `{order_id}`. Raises UnknownPack,
    TooManyOpenCheckouts, or PaymentsUnavailable (a new order is then marked failed and
    nothing was charged)."""
    try:
        pack = purchasable_packs().get(pk=int(str(pack_id)))
    except (ValueError, OverflowError, CreditPack.DoesNotExist):
        raise UnknownPack() from None
    unusable: set[int] = set()
    while True:  # each pass either returns or sets aside one of the user's few pending orders
        order, created = _pending_order(user, pack, unusable)
        session = _checkout_session(order, pack, success_url, cancel_url)
        if session is not None and (created or _reusable(session)):
            return Checkout(order=order, reused=not created)
        if session is not None and session.is_open:
            # Too close to its end to hand out: end it now rather than let it be paid late.
            _end_checkout(order, OrderStatus.EXPIRED)
        elif session is not None and session.status == "expired":
            close_order(session, OrderStatus.EXPIRED)
        elif session is not None and session.payment_status == "paid":
            fulfil_checkout(session)  # paid, its webhook not here yet: this buys another
        unusable.add(order.pk)


def _pending_order(user: User, pack: CreditPack, unusable: set[int]) -> tuple[Order, bool]:
    """The user's newest pending order for the pack at its current price, or a new one within
    the limit. The user's balance row serializes their checkouts, so concurrent clicks find
    the one order the first of them made."""
    with transaction.atomic():
        lock_balance(user)
        since = timezone.now() - CHECKOUT_LIFETIME
        pending = Order.objects.filter(
            user=user, status=OrderStatus.PENDING, created_at__gt=since, refill_key__isnull=True
        )
        same = (
            pending.filter(
                pack=pack, credits=pack.credits, amount=pack.price, currency=pack.currency
            )
            .exclude(pk__in=unusable)
            .order_by("-created_at", "-pk")
            .first()
        )
        if same is not None:
            return same, False
        open_orders = list(pending.order_by("created_at").values_list("created_at", flat=True))
        if len(open_orders) >= settings.MAX_OPEN_CHECKOUTS:
            frees_at = open_orders[0] + CHECKOUT_LIFETIME
            raise TooManyOpenCheckouts(
                settings.MAX_OPEN_CHECKOUTS, int((frees_at - timezone.now()).total_seconds())
            )
        order = Order.objects.create(
            user=user, pack=pack, credits=pack.credits, amount=pack.price, currency=pack.currency
        )
        return order, True


def _checkout_session(
    order: Order, pack: CreditPack, success_url: str, cancel_url: str
) -> CheckoutSession | None:
    """The order's Checkout Session as Stripe has it now, opened if the order has none yet;
    None if the order stopped pending meanwhile. Opening holds the order's row lock, and the
    idempotency key comes from the order, so however many requests share a new order, Stripe
    opens one session for it."""
    if order.checkout_session_id:
        return stripe_gateway.retrieve_checkout_session(order.checkout_session_id)
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != OrderStatus.PENDING:
                return None
            if locked.checkout_session_id:  # another request opened it while this one waited
                order.checkout_session_id = locked.checkout_session_id
                order.checkout_url = locked.checkout_url
                return stripe_gateway.retrieve_checkout_session(locked.checkout_session_id)
            session = stripe_gateway.create_checkout_session(
                order_id=order.pk,
                idempotency_key=f"wan-order-{order.pk}-{int(order.created_at.timestamp())}",
                name=f"{pack.credits:,} Wan PWA credits ({pack.name})",
                amount=order.amount,
                currency=order.currency,
                email=order.user.email,
                success_url=success_url.replace("{order_id}", str(order.pk)),
                cancel_url=cancel_url.replace("{order_id}", str(order.pk)),
            )
            order.checkout_session_id, order.checkout_url = session.id, session.url
            order.save(update_fields=["checkout_session_id", "checkout_url", "updated_at"])
            return session
    except stripe_gateway.PaymentsUnavailable:
        # Only an order still without a session: a concurrent request may have opened one.
        Order.objects.filter(
            pk=order.pk, status=OrderStatus.PENDING, checkout_session_id__isnull=True
        ).update(status=OrderStatus.FAILED, updated_at=timezone.now())
        raise


def _reusable(session: CheckoutSession) -> bool:
    remaining = (session.expires_at or 0) - timezone.now().timestamp()
    return session.is_open and remaining > REUSE_MARGIN.total_seconds()


def cancel_checkout(order: Order) -> OrderOutcome:
    """The buyer turned back from Stripe's page, or canceled the order in Billing: Stripe
    expires the session, so it can no longer be paid, and the order is closed as canceled.
    Stripe refuses a session that was paid meanwhile: then the payment wins (granted here if
    it has arrived, else by its webhook). PaymentsUnavailable if Stripe cannot be reached."""
    return _end_checkout(order, OrderStatus.CANCELED)


def _end_checkout(order: Order, status: OrderStatus) -> OrderOutcome:
    # The rows stay locked while Stripe answers: the checkout.session.expired webhook that the
    # call sets off waits for them, then finds the order closed with the status asked for here
    # (a buyer who turned back sees "Canceled", not "Expired").
    with transaction.atomic():
        locked = _lock_balance_and_order(order.pk)
        if locked is None or locked[1].status != OrderStatus.PENDING:
            return OrderOutcome.NO_CHANGE
        session_id = locked[1].checkout_session_id
        if not session_id:  # never reached Stripe: nothing there to expire
            return _close(order.pk, None, status).outcome
        session = stripe_gateway.expire_checkout_session(session_id)
        if session.status == "expired":
            return close_order(session, status).outcome
        if session.payment_status == "paid":
            return fulfil_checkout(session).outcome
        return OrderOutcome.AWAITING_PAYMENT


def _order_id(session: CheckoutSession) -> int | None:
    ref = session.client_reference_id
    return int(ref) if ref.isascii() and ref.isdigit() and len(ref) < 19 else None


def _lock_balance_and_order(order_id: int) -> tuple[CreditBalance, Order] | None:
    user_id = Order.objects.filter(pk=order_id).values_list("user_id", flat=True).first()
    if user_id is None:
        return None
    balance = lock_balance(user_id)
    return balance, Order.objects.select_for_update().get(pk=order_id)


def fulfil_checkout(session: CheckoutSession) -> OrderResult:
    """Grants the order's credits once, when the session is paid; the next purchase pays any
    debt first. Safe to run for every delivery of completed and async_payment_succeeded: the
    order row (locked) says whether it was granted, and one purchase row per order is a
    database constraint."""
    order_id = _order_id(session)
    if order_id is None:
        return OrderResult(OrderOutcome.UNKNOWN_ORDER)
    if session.payment_status != "paid":
        return OrderResult(OrderOutcome.AWAITING_PAYMENT, _order_of_session(order_id, session))
    with transaction.atomic():
        locked = _lock_balance_and_order(order_id)
        if locked is None:
            return OrderResult(OrderOutcome.UNKNOWN_ORDER)
        balance, order = locked
        if (order.checkout_session_id, order.amount, order.currency) != (
            session.id,
            session.amount_total,
            session.currency,
        ):
            # The order is this session's only if the session id is the one it opened.
            same_session = order.checkout_session_id == session.id
            return OrderResult(OrderOutcome.MISMATCH, order if same_session else None)
        if order.status == OrderStatus.PAID:
            return OrderResult(OrderOutcome.ALREADY_GRANTED, order)
        _grant_order(balance, order, session.payment_intent)
    return OrderResult(OrderOutcome.GRANTED, order)


def _grant_order(balance: CreditBalance, order: Order, payment_intent: str) -> None:
    # Paid wins over a closed status: the money arrived, so the credits are due.
    order.status, order.paid_at = OrderStatus.PAID, timezone.now()
    order.payment_intent_id = payment_intent
    order.save(update_fields=["status", "paid_at", "payment_intent_id", "updated_at"])
    row = _write(
        balance,
        amount=order.credits,
        type=TransactionType.PURCHASE,
        order=order,
        description=f"Order #{order.pk}: {order.pack.name} pack"
        + (" (auto-refill)" if order.is_refill else ""),
    )
    buckets.fill(row, order.credits)  # packs never expire
    pay_debts(balance, paid_by=order)
    record_event(
        order.user_id, EventType.ORDER_PAID, _paid_order_data(order), key=f"order:{order.pk}"
    )


def fulfil_refill(intent: PaymentIntent) -> OrderResult:
    """Grants an auto-refill order's credits once, from its payment's signed
    `payment_intent.succeeded` (credits/auto_refill.py creates the order and the payment). The
    same rules as a pack: the order row (locked) says whether it was granted, one purchase row
    per order is a constraint, amount and currency must match, and paid wins over failed. A
    payment of anything else (a pack's Checkout) is left to its own events."""
    digits = intent.order_id.isascii() and intent.order_id.isdigit()
    order_id = int(intent.order_id) if digits and len(intent.order_id) < 19 else None
    if order_id is None or intent.status != "succeeded":
        return OrderResult(OrderOutcome.UNKNOWN_ORDER)
    with transaction.atomic():
        locked = _lock_balance_and_order(order_id)
        if locked is None or not locked[1].is_refill:
            return OrderResult(OrderOutcome.UNKNOWN_ORDER)
        balance, order = locked
        if (order.amount, order.currency) != (intent.amount, intent.currency) or (
            order.payment_intent_id not in ("", intent.id)
        ):
            return OrderResult(OrderOutcome.MISMATCH, order)
        if order.status == OrderStatus.PAID:
            return OrderResult(OrderOutcome.ALREADY_GRANTED, order)
        _grant_order(balance, order, intent.id)
    return OrderResult(OrderOutcome.GRANTED, order)


def _paid_order_data(order: Order) -> dict[str, object]:
    """The order.paid webhook's data: the amount in the currency's smallest unit."""
    return {
        "order_id": order.pk,
        "credits": order.credits,
        "amount": order.amount,
        "currency": order.currency,
    }


def _order_of_session(order_id: int, session: CheckoutSession) -> Order | None:
    return Order.objects.filter(pk=order_id, checkout_session_id=session.id).first()


def close_order(session: CheckoutSession, status: OrderStatus) -> OrderResult:
    """An expired or canceled session, or a delayed payment that failed: the pending order ends
    unpaid. A payment arriving later still grants it (fulfil_checkout: paid wins)."""
    order_id = _order_id(session)
    if order_id is None:
        return OrderResult(OrderOutcome.UNKNOWN_ORDER)
    return _close(order_id, session.id, status)


def _close(order_id: int, session_id: str | None, status: OrderStatus) -> OrderResult:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.checkout_session_id != session_id:
            return OrderResult(OrderOutcome.NO_CHANGE)  # not this session's order
        if order.status != OrderStatus.PENDING:
            return OrderResult(OrderOutcome.NO_CHANGE, order)
        order.status = status
        order.save(update_fields=["status", "updated_at"])
    return OrderResult(OrderOutcome.CLOSED, order)


def _paid_order_id(payment_intent: str) -> int | None:
    if not payment_intent:
        return None
    return (
        Order.objects.filter(payment_intent_id=payment_intent, status=OrderStatus.PAID)
        .values_list("pk", flat=True)
        .first()
    )


def record_refund(payment_intent: str, amount_refunded: int) -> OrderResult:
    """Stripe's cumulative refunded amount of the order's charge: only the part not seen before
    takes credits back, so repeated, late or reordered events change nothing."""
    order_id = _paid_order_id(payment_intent)
    if order_id is None:
        return OrderResult(OrderOutcome.UNKNOWN_PAYMENT)
    with transaction.atomic():
        locked = _lock_balance_and_order(order_id)
        assert locked is not None  # paid orders are never deleted (PROTECT)
        balance, order = locked
        refunded = min(max(amount_refunded, 0), order.amount)
        if refunded <= order.amount_refunded:
            return OrderResult(OrderOutcome.NO_CHANGE, order)
        order.amount_refunded = refunded
        return OrderResult(settle_paid_credits(balance, order, "amount_refunded"), order)


def record_dispute(payment_intent: str, dispute_id: str, status: str) -> OrderResult:
    """A dispute holds the pack's credits from when it opens; won, they come back. A dispute's
    final status is never replaced by an earlier one arriving late."""
    order_id = _paid_order_id(payment_intent)
    if order_id is None:
        return OrderResult(OrderOutcome.UNKNOWN_PAYMENT)
    with transaction.atomic():
        locked = _lock_balance_and_order(order_id)
        assert locked is not None
        balance, order = locked
        same_dispute = order.dispute_id == dispute_id
        if same_dispute and (
            order.dispute_status == status or order.dispute_status in DISPUTE_FINAL_STATUSES
        ):
            return OrderResult(OrderOutcome.NO_CHANGE, order)
        order.dispute_id, order.dispute_status = dispute_id[:255], status[:30]
        return OrderResult(
            settle_paid_credits(balance, order, "dispute_id", "dispute_status"), order
        )


def settle_paid_credits(balance: CreditBalance, paid: PaidCredits, *changed: str) -> OrderOutcome:
    """Moves the recovered credits of an order or plan invoice to what its refunds and dispute
    call back now: takes what the balance holds and records the rest as debt, or gives back
    what is no longer due. The caller holds the balance's and `paid`'s row locks."""
    target = paid.credits_to_take_back()
    debt_before = paid.debt
    paid.credits_owed = target
    outcome = OrderOutcome.NO_CHANGE
    if target > paid.credits_recovered:
        _take_back(balance, paid, target - paid.credits_recovered, "refunded or disputed payment")
        balance.debt += paid.debt - debt_before
        outcome = OrderOutcome.TAKEN_BACK
    elif target < paid.credits_recovered:
        give = paid.credits_recovered - target
        paid.credits_recovered = target
        balance.debt += paid.debt - debt_before
        row = _write(
            balance,
            amount=give,
            type=TransactionType.REINSTATE,
            description=f"{paid.label}: dispute resolved in your favour",
            **_link(paid),
        )
        # A new bucket rather than the ones the credits were taken from: a pack's never
        # expires, a plan invoice's at the end of its period.
        buckets.fill(row, give, expires_at=getattr(paid, "period_end", None))
        outcome = OrderOutcome.GIVEN_BACK
    else:
        balance.debt += paid.debt - debt_before
    balance.save(update_fields=["balance", "debt", "updated_at"])
    paid.save(update_fields=[*changed, "credits_owed", "credits_recovered", "updated_at"])
    return outcome


def _link(paid: PaidCredits) -> dict[str, Any]:
    """The ledger row's link to the order or plan invoice."""
    return {"order": paid} if isinstance(paid, Order) else {"plan_invoice": paid}


def pay_debts(balance: CreditBalance, *, paid_by: PaidCredits) -> None:
    """Takes what the user owes from their balance, oldest order first, then plan invoices."""
    if balance.debt == 0:
        return
    owing: list[QuerySet] = [
        model.objects.select_for_update()
        .filter(user_id=balance.user_id, credits_owed__gt=F("credits_recovered"))
        .order_by("pk")
        for model in (Order, PlanInvoice)
    ]
    for query in owing:
        for paid in query:
            if balance.balance == 0:
                break
            why = f"debt paid by {paid_by.label[0].lower()}{paid_by.label[1:]}"
            balance.debt -= _take_back(balance, paid, paid.debt, why)
            paid.save(update_fields=["credits_recovered", "updated_at"])
    balance.save(update_fields=["debt", "updated_at"])


def _take_back(balance: CreditBalance, paid: PaidCredits, credits: int, why: str) -> int:
    """Takes up to `credits` of the order's or plan invoice's from the balance (what it holds);
    returns how many."""
    take = min(credits, balance.balance)
    if take:
        paid.credits_recovered += take
        row = _write(
            balance,
            amount=-take,
            type=TransactionType.CLAWBACK,
            description=f"{paid.label}: {why}",
            **_link(paid),
        )
        # Its own credits first (a pack's, or a plan invoice's), then the others in spending
        # order.
        buckets.draw(
            row,
            take,
            timezone.now(),
            first=Q(**{f"transaction__{name}": value for name, value in _link(paid).items()}),
        )
    return take


def request_refund(order: Order) -> str:
    """Asks Stripe to refund what is left of a paid order (staff's admin action); the credits
    are taken back when Stripe's charge.refunded webhook arrives. Returns the refund id."""
    if order.status != OrderStatus.PAID or not order.payment_intent_id:
        raise CreditError(f"Order #{order.pk} is not paid, so there is nothing to refund.")
    left = order.amount - order.amount_refunded
    if left <= 0:
        raise CreditError(f"Order #{order.pk} is already refunded in full.")
    return stripe_gateway.refund_payment(
        payment_intent=order.payment_intent_id,
        amount=left,
        # The same order state gives the same key: two clicks at once make one refund.
        idempotency_key=f"wan-refund-order-{order.pk}-after-{order.amount_refunded}",
    )
