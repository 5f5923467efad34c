from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef
from django.utils.dateparse import parse_date

from credits.models import CreditTransaction, TransactionType
from generations.actions.errors import CannotRefund
from generations.actions.transitions import check_refund_generation
from generations.models import Generation, Status


def unrefunded_failures():
    """Failed or canceled generations that were charged and never refunded."""
    ledger = CreditTransaction.objects.filter(generation=OuterRef("pk"))
    return (
        Generation.objects.filter(status__in=[Status.FAILED, Status.CANCELED])
        .filter(Exists(ledger.filter(type=TransactionType.DEDUCTION)))
        .exclude(Exists(ledger.filter(type=TransactionType.REFUND)))
        .select_related("user")
        .order_by("created_at", "id")
    )


class Command(BaseCommand):
    help = "Refunds every failed or canceled generation that lacks a refund, and sums it up."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since", metavar="YYYY-MM-DD", help="Only generations created on or after this day."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be refunded; change nothing."
        )

    def handle(self, *args, since: str | None, dry_run: bool, **options) -> None:
        generations = unrefunded_failures()
        if since:
            try:
                day = parse_date(since)
            except ValueError:  # well-formed but impossible, e.g. 2025-02-30
                day = None
            if day is None:
                raise CommandError(f"--since must be a date like 2025-01-31, not {since!r}.")
            generations = generations.filter(created_at__date__gte=day)
        count = credits = 0
        for generation in generations.iterator():
            if dry_run:
                refunded = generation.cost
            else:
                try:
                    refund = check_refund_generation(
                        generation, reason="missing refund found by refund_failed"
                    )
                except CannotRefund as error:  # its status changed meanwhile
                    self.stderr.write(f"#{generation.pk}: {error.message}")
                    continue
                if refund is None:  # refunded meanwhile
                    continue
                refunded = refund.amount
            count += 1
            credits += refunded
            verb = "would refund" if dry_run else "refunded"
            self.stdout.write(
                f"#{generation.pk} ({generation.status}, {generation.user}): {verb} {refunded}"
            )
        if dry_run:
            summary = f"Dry run: would refund {count} generation(s), {credits} credits."
        else:
            summary = f"Refunded {count} generation(s), {credits} credits."
        self.stdout.write(self.style.SUCCESS(summary))
