from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TransactionType(models.TextChoices):
    BONUS = "bonus", "Bonus"
    PURCHASE = "purchase", "Purchase"
    DEDUCTION = "deduction", "Deduction"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    # Credits of a paid order taken back after a refund or a dispute, and given back when a
    # dispute is won; always linked to that order.
    CLAWBACK = "clawback", "Taken back"
    REINSTATE = "reinstate", "Given back"
    # What was left of a bucket of credits at its expiry (credits/buckets.py); never linked.
    EXPIRY = "expiry", "Expired"


# The types that add_credits writes (credits.actions): the only rows a staff member may author.
GRANT_TYPES = (TransactionType.BONUS, TransactionType.PURCHASE, TransactionType.ADJUSTMENT)


# The highest balance threshold a user may set for the low-balance alert or auto-refill.
MAX_THRESHOLD = 100_000


class CreditBalance(models.Model):
    """One row per user: the balance every credit action locks before it writes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="credit_balance",
    )
    balance = models.IntegerField(default=0)
    # Credits refunds and disputes could not take back because they were already spent: the
    # user cannot submit while it is above 0, and their next purchase pays it first.
    debt = models.IntegerField(default=0)
    # The low-balance alert (credits/low_balance.py): the user's threshold (empty: the cheapest
    # generation), and whether they were told the balance is below it, so a crossing tells them
    # once; both change under this row's lock, with the balance.
    low_balance_threshold = models.PositiveIntegerField(null=True, blank=True)
    low_balance_alerted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(debt__gte=0), name="credit_balance_debt_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__isnull=True)
                | Q(low_balance_threshold__gte=1, low_balance_threshold__lte=MAX_THRESHOLD),
                name="credit_balance_low_threshold_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.balance} credits"


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a ledger row."""


class CreditTransactionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The credit ledger is append-only; rows cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The credit ledger is append-only; rows cannot be deleted.")

    # bulk paths would skip the balance lock and the balance_after chain
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("The credit ledger is append-only; rows cannot be updated.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError("Ledger rows are written one at a time by credits.actions.")


class CreditTransaction(models.Model):
    """The append-only ledger: every change of a balance, with the balance it left behind."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_transactions"
    )
    amount = models.IntegerField(help_text="Signed: positive adds credits, negative takes them.")
    type = models.CharField(max_length=10, choices=TransactionType.choices)
    generation = models.ForeignKey(
        "generations.Generation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_transactions",
    )
    order = models.ForeignKey(
        "credits.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_transactions",
    )
    # A plan's credits for a paid invoice (a purchase), and what its refunds and dispute took
    # back or gave back, like an order's.
    plan_invoice = models.ForeignKey(
        "credits.PlanInvoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_transactions",
    )
    description = models.CharField(max_length=255, blank=True)
    balance_after = models.IntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who made a manual grant or adjustment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CreditTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Staff who may view or even change other things still need this one to add or remove
        # credits by hand (the admin's grant action).
        permissions = [("grant_credits", "Can grant or adjust a user's credits")]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="credit_tx_user_created"),
            # The credits roll-up's time-range scan (credits/analytics.py), every type at once:
            # without it each run reads the whole ledger (EXPLAIN: a sequential scan).
            models.Index(fields=["created_at"], name="credit_tx_created"),
            # A day's spend, recounted when the daily budget's Redis counter is lost.
            models.Index(
                fields=["created_at"],
                condition=Q(type=TransactionType.DEDUCTION),
                name="credit_tx_deductions_created",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credit_tx_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="credit_tx_balance_after_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(type__in=TransactionType.values), name="credit_tx_type_valid"
            ),
            # Deductions and refunds belong to a generation, clawbacks and reinstatements to an
            # order or a plan invoice; a purchase may name one of those (a staff grant has none).
            models.CheckConstraint(
                condition=(
                    Q(type=TransactionType.DEDUCTION, amount__lt=0, generation__isnull=False)
                    & Q(order__isnull=True, plan_invoice__isnull=True)
                    | Q(type=TransactionType.REFUND, amount__gt=0, generation__isnull=False)
                    & Q(order__isnull=True, plan_invoice__isnull=True)
                    | Q(type=TransactionType.BONUS, amount__gt=0, generation__isnull=True)
                    & Q(order__isnull=True, plan_invoice__isnull=True)
                    | Q(type=TransactionType.PURCHASE, amount__gt=0, generation__isnull=True)
                    & (Q(order__isnull=True) | Q(plan_invoice__isnull=True))
                    | Q(type=TransactionType.ADJUSTMENT, generation__isnull=True)
                    & Q(order__isnull=True, plan_invoice__isnull=True)
                    | Q(generation__isnull=True)
                    & (
                        Q(type=TransactionType.CLAWBACK, amount__lt=0)
                        | Q(type=TransactionType.REINSTATE, amount__gt=0)
                    )
                    & (
                        Q(order__isnull=False, plan_invoice__isnull=True)
                        | Q(order__isnull=True, plan_invoice__isnull=False)
                    )
                    | Q(type=TransactionType.EXPIRY, amount__lt=0, generation__isnull=True)
                    & Q(order__isnull=True, plan_invoice__isnull=True)
                ),
                name="credit_tx_sign_and_links_match_type",
            ),
            models.UniqueConstraint(
                fields=["plan_invoice"],
                condition=Q(type=TransactionType.PURCHASE),
                name="credit_tx_one_purchase_per_plan_invoice",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(type=TransactionType.PURCHASE),
                name="credit_tx_one_purchase_per_order",
            ),
            # Only a staff grant names its author: never a charge, a refund or a payment.
            models.CheckConstraint(
                condition=Q(created_by__isnull=True)
                | Q(
                    type__in=list(GRANT_TYPES),
                    generation__isnull=True,
                    order__isnull=True,
                    plan_invoice__isnull=True,
                ),
                name="credit_tx_author_only_on_grants",
            ),
            models.UniqueConstraint(
                fields=["generation"],
                condition=Q(type=TransactionType.DEDUCTION),
                name="credit_tx_one_deduction_per_generation",
            ),
            models.UniqueConstraint(
                fields=["generation"],
                condition=Q(type=TransactionType.REFUND),
                name="credit_tx_one_refund_per_generation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.amount:+d} for {self.user}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The credit ledger is append-only; rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The credit ledger is append-only; rows cannot be deleted.")


# The source of the bucket that holds what a user had before credits came in buckets.
OPENING_SOURCE = "opening"
# Buckets are spent in this order: the one expiring first, those that never expire last, the
# oldest first among equals.
SPENDING_ORDER = (models.F("expires_at").asc(nulls_last=True), "pk")
# How pages name a bucket's credits, by its source; any other source is just "credits".
SOURCE_LABELS: dict[str, str] = {
    TransactionType.BONUS: "bonus credits",
    TransactionType.PURCHASE: "purchased credits",
    TransactionType.REINSTATE: "purchased credits",
    "plan": "plan credits",  # the credits a plan grants each period
}


class CreditBucket(models.Model):
    """Credits granted together, with their expiry (None: they never expire). Every grant makes
    one (credits/buckets.py); spending draws from the bucket that expires first, and the sum of
    a user's `remaining` is their balance (expired buckets count until the expiry job or their
    owner's next credit change writes their expiry row)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_buckets"
    )
    # The ledger row that made it: a grant, a purchase, a reinstatement, the refund of credits
    # whose bucket expired meanwhile, or (opening buckets) the user's last row before buckets.
    transaction = models.ForeignKey(
        CreditTransaction, on_delete=models.PROTECT, related_name="buckets"
    )
    # What kind of credits: the type of the grant (a refund keeps its credits' kind), or
    # "opening" for the balance carried over when buckets came.
    source = models.CharField(max_length=10)
    granted = models.IntegerField()
    remaining = models.IntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [*SPENDING_ORDER]
        indexes = [
            # A spend's lookup: the user's buckets that still hold credits.
            models.Index(
                fields=["user", "expires_at"],
                condition=Q(remaining__gt=0),
                name="credit_bucket_holding",
            ),
            # The expiry job's scan: buckets with credits and an expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(remaining__gt=0, expires_at__isnull=False),
                name="credit_bucket_expiring",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=models.F("granted")),
                name="credit_bucket_remaining_within_granted",
            ),
            models.CheckConstraint(
                condition=Q(granted__gt=0) | Q(source=OPENING_SOURCE, granted=0),
                name="credit_bucket_granted_positive",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(source=OPENING_SOURCE),
                name="credit_bucket_one_opening_per_user",
            ),
        ]

    def __str__(self) -> str:
        until = f"until {self.expires_at:%Y-%m-%d %H:%M}" if self.expires_at else "never expire"
        return f"{self.remaining}/{self.granted} {self.source} credits of {self.user}, {until}"

    @property
    def label(self) -> str:
        return SOURCE_LABELS.get(self.source, "credits")


class MovementKind(models.TextChoices):
    DRAW = "draw", "Drawn"  # a charge, a take-back or a negative adjustment
    RETURN = "return", "Given back"  # a refund of a charge
    EXPIRY = "expiry", "Expired"


class BucketMovement(models.Model):
    """What one ledger row took from (negative) or gave back to (positive) one bucket, so a
    refund goes back where its charge came from: a bucket's `remaining` is its `granted` plus
    the sum of its movements (the audit checks it)."""

    bucket = models.ForeignKey(CreditBucket, on_delete=models.PROTECT, related_name="movements")
    transaction = models.ForeignKey(
        CreditTransaction, on_delete=models.PROTECT, related_name="bucket_movements"
    )
    kind = models.CharField(max_length=6, choices=MovementKind.choices)
    amount = models.IntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=MovementKind.DRAW, amount__lt=0)
                | Q(kind=MovementKind.RETURN, amount__gt=0)
                | Q(kind=MovementKind.EXPIRY, amount__lt=0),
                name="bucket_movement_sign_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["bucket", "transaction"], name="bucket_movement_once_per_row"
            ),
            # A bucket expires once: a second expiry row for it cannot be written.
            models.UniqueConstraint(
                fields=["bucket"],
                condition=Q(kind=MovementKind.EXPIRY),
                name="bucket_movement_one_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d} of bucket {self.bucket_id}"


class CreditPack(models.Model):
    """Credits sold together at one price, edited by staff; the landing page and Billing list
    the active packs of the billing currency."""

    name = models.CharField(max_length=60)
    credits = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="In the currency's smallest unit (cents).")
    currency = models.CharField(max_length=3, help_text="Lowercase ISO code, e.g. usd.")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Listed in this order.")

    class Meta:
        ordering = ["position", "price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="credit_pack_credits_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="credit_pack_price_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[a-z]{3}$"), name="credit_pack_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits)"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    PAID = "paid", "Paid"
    FAILED = "failed", "Payment failed"
    EXPIRED = "expired", "Expired"
    # The buyer turned back from Stripe's page (or canceled in Billing) and Stripe expired the
    # session, so it can no longer be paid.
    CANCELED = "canceled", "Canceled"


# A dispute in these states holds the order's credits; "won" and "warning_closed" release them.
DISPUTE_HOLDING_STATUSES = frozenset(
    {
        "warning_needs_response",
        "warning_under_review",
        "needs_response",
        "under_review",
        "lost",
    }
)
DISPUTE_FINAL_STATUSES = frozenset({"won", "lost", "warning_closed"})


class PaidCredits(models.Model):
    """Credits granted for a payment that Stripe may refund or see disputed: an order or a
    plan invoice.

    `credits_owed` is what refunds and disputes of the payment call back now,
    `credits_recovered` what was actually taken from the balance; the difference is its share
    of the user's debt (CreditBalance.debt is their sum, checked by the audit).
    """

    credits = models.PositiveIntegerField()
    amount = models.PositiveIntegerField(help_text="In the currency's smallest unit.")
    currency = models.CharField(max_length=3)
    amount_refunded = models.PositiveIntegerField(default=0)
    dispute_id = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(max_length=30, blank=True)
    credits_owed = models.PositiveIntegerField(default=0)
    credits_recovered = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def label(self) -> str:
        """How ledger rows and messages name it."""
        raise NotImplementedError

    @property
    def debt(self) -> int:
        return self.credits_owed - self.credits_recovered

    @property
    def dispute_holds_credits(self) -> bool:
        return self.dispute_status in DISPUTE_HOLDING_STATUSES

    def credits_to_take_back(self) -> int:
        """The credits refunds and disputes call back: the credits' share of the money
        refunded (rounded down, so a full refund is exactly all of them), or all of them while
        a dispute holds them."""
        if self.dispute_holds_credits:
            return self.credits
        if self.amount == 0:
            return 0
        return self.credits * self.amount_refunded // self.amount


class Order(PaidCredits):
    """One purchase of a pack through one Stripe Checkout Session."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    pack = models.ForeignKey(CreditPack, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    # A refill bought off-session with the saved card (credits/auto_refill.py) has no Checkout
    # Session: this key, one per crossing of the threshold, is its Stripe idempotency key.
    refill_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_created"),
            # The reconcile job's scan: the few orders still awaiting payment, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="order_pending_created",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="order_credits_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")),
                name="order_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(credits_owed__lte=models.F("credits"))
                & Q(credits_recovered__lte=models.F("credits_owed")),
                name="order_recovery_within_credits",
            ),
            # Only a paid order has money to refund or dispute, and a paid order has a time.
            models.CheckConstraint(
                condition=Q(status=OrderStatus.PAID, paid_at__isnull=False)
                | Q(amount_refunded=0, credits_owed=0, paid_at__isnull=True)
                & ~Q(status=OrderStatus.PAID),
                name="order_paid_has_time_and_only_paid_refunds",
            ),
            # At most one refill in flight per user, whatever runs at once.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(refill_key__isnull=False, status=OrderStatus.PENDING),
                name="order_one_refill_in_flight",
            ),
            models.CheckConstraint(
                condition=Q(refill_key__isnull=True) | Q(checkout_session_id__isnull=True),
                name="order_refill_has_no_checkout",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} ({self.credits} credits, {self.status})"

    @property
    def label(self) -> str:
        return f"Order #{self.pk}"

    @property
    def is_refill(self) -> bool:
        return self.refill_key is not None


class BonusClaim(models.Model):
    """An address that was given the sign-up bonus (credits/bonus.py), kept as a keyed hash of
    its normalised form so that no address is stored, yet the same address (or a dot and plus
    variant of it) never earns a second bonus, even after its account is deleted."""

    address_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bonus_claims",
    )
    credits = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Empty while the bonus waits for a day with budget left (SIGNUP_BONUS_DAILY_BUDGET).
    granted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One bonus per account too: a changed and verified address earns nothing more.
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="bonus_claim_one_per_user"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(granted_at__isnull=True),
                name="bonus_claim_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"Bonus of {self.credits} for {self.user or 'a deleted account'}"


class BonusBudgetDay(models.Model):
    """The bonus credits granted on one day, against SIGNUP_BONUS_DAILY_BUDGET."""

    day = models.DateField(primary_key=True)
    credits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.credits} bonus credits"


class StripeCustomer(models.Model):
    """The user's Customer at Stripe: made once (credits/customers.py), reused by every
    Checkout, subscription, portal session and saved card of theirs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stripe_customer",
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.stripe_customer_id} for {self.user}"


class Plan(models.Model):
    """A monthly subscription that grants `credits` at each paid period, expiring at the
    period's end; edited by staff like packs. Its Stripe price is made on first use and, as
    Stripe prices cannot change, a plan's price, credits and currency are fixed from then on
    (staff add a new plan and retire the old one)."""

    name = models.CharField(max_length=60)
    credits = models.PositiveIntegerField(help_text="Granted each month; they expire then.")
    price = models.PositiveIntegerField(help_text="A month, in the currency's smallest unit.")
    currency = models.CharField(max_length=3, help_text="Lowercase ISO code, e.g. usd.")
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Listed in this order.")
    stripe_price_id = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["position", "price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="plan_credits_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="plan_price_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[a-z]{3}$"), name="plan_currency_iso"
            ),
            models.UniqueConstraint(
                fields=["stripe_price_id"],
                condition=~Q(stripe_price_id=""),
                name="plan_one_per_stripe_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits a month)"


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", "Awaiting first payment"
    INCOMPLETE_EXPIRED = "incomplete_expired", "First payment never made"
    TRIALING = "trialing", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Payment failed"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"
    PAUSED = "paused", "Paused"


# A user has at most one subscription in these states; the others have ended.
LIVE_SUBSCRIPTION_STATUSES = (
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
)


class Subscription(models.Model):
    """A user's subscription to a plan, as Stripe's events last described it
    (credits/subscriptions.py). (`synced_period_end`, `synced_event_at`) of the description
    applied last orders them, so a late event never replaces a newer state."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    synced_period_end = models.BigIntegerField(default=0, editable=False)
    synced_event_at = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubscriptionStatus.values),
                name="subscription_status_valid",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=LIVE_SUBSCRIPTION_STATUSES),
                name="subscription_one_live_per_user",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gte=models.F("current_period_start")),
                name="subscription_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} for {self.user} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_SUBSCRIPTION_STATUSES


class PlanInvoice(PaidCredits):
    """A paid invoice of a subscription and the credits it granted, once (unique invoice id):
    a period of its plan, or the pro-rata difference of an upgrade."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plan_invoices"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="invoices"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="invoices")
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    billing_reason = models.CharField(max_length=40)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    paid_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")),
                name="plan_invoice_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(credits_owed__lte=models.F("credits"))
                & Q(credits_recovered__lte=models.F("credits_owed")),
                name="plan_invoice_recovery_within_credits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.credits} credits)"

    @property
    def label(self) -> str:
        return f"Plan invoice #{self.pk}"


class PlanCheckout(models.Model):
    """A Checkout Session in subscription mode opened for a user. A user has one open at a
    time: a new one expires the last, so repeated clicks never leave several to be paid."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_checkouts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="checkouts")
    checkout_session_id = models.CharField(max_length=255, unique=True)
    checkout_url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.checkout_session_id} ({self.plan.name} for {self.user})"


# The most refills a user may allow in a calendar month.
MAX_REFILLS_PER_MONTH = 20


class AutoRefill(models.Model):
    """A user's auto-refill (credits/auto_refill.py): when their balance falls below
    `threshold`, `pack` is bought off-session with the card saved at Stripe, at most
    `monthly_max` times a calendar month. Changed under the user's balance-row lock."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="auto_refill",
    )
    enabled = models.BooleanField(default=False)
    threshold = models.PositiveIntegerField(default=20)
    pack = models.ForeignKey(
        CreditPack, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    monthly_max = models.PositiveSmallIntegerField(default=3)
    # The card saved through Checkout in setup mode (pm_...), and how Billing names it.
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_label = models.CharField(max_length=60, blank=True)
    # The next decrease below the threshold starts a refill even if the balance was already
    # below it (set when the user turns it on, or after a refill Stripe could not be asked for).
    armed = models.BooleanField(default=True)
    # Refills started so far: with the user, the key of each one (a unique key per crossing).
    refills_started = models.PositiveIntegerField(default=0)
    # Why it turned itself off (a card that needs the customer, a decline): Billing's banner.
    stopped_reason = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=1, threshold__lte=MAX_THRESHOLD),
                name="auto_refill_threshold_in_range",
            ),
            models.CheckConstraint(
                condition=Q(monthly_max__gte=1, monthly_max__lte=MAX_REFILLS_PER_MONTH),
                name="auto_refill_monthly_max_in_range",
            ),
            # Only with a pack and a saved card can it be on.
            models.CheckConstraint(
                condition=Q(enabled=False) | Q(pack__isnull=False) & ~Q(payment_method_id=""),
                name="auto_refill_on_needs_pack_and_card",
            ),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"auto-refill {state} for {self.user}"
