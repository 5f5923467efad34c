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


class CreditBalance(models.Model):
    """One row per user: the balance every credit action locks before it writes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="credit_balance",
    )
    balance = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_not_negative")
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
        indexes = [
            models.Index(fields=["user", "-created_at"], name="credit_tx_user_created"),
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
            # Deductions and refunds belong to a generation; the other types never do.
            models.CheckConstraint(
                condition=(
                    Q(type=TransactionType.DEDUCTION, amount__lt=0, generation__isnull=False)
                    | Q(type=TransactionType.REFUND, amount__gt=0, generation__isnull=False)
                    | Q(type__in=[TransactionType.BONUS, TransactionType.PURCHASE], amount__gt=0)
                    & Q(generation__isnull=True)
                    | Q(type=TransactionType.ADJUSTMENT, generation__isnull=True)
                ),
                name="credit_tx_sign_and_generation_match_type",
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
