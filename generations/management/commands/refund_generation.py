from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from credits.models import CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.actions.errors import CannotRefund
from generations.actions.transitions import check_refund_generation
from generations.models import Generation


class Command(BaseCommand):
    help = (
        "Gives back what a generation was charged, once. A second run says it is already "
        "refunded and changes nothing; a succeeded generation needs --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("generation_id", type=int)
        parser.add_argument("--reason", default="", help="Recorded on the ledger row.")
        parser.add_argument(
            "--force", action="store_true", help="Also refund a succeeded generation."
        )

    def handle(self, *args, generation_id: int, reason: str, force: bool, **options) -> None:
        generation = Generation.objects.filter(pk=generation_id).select_related("user").first()
        if generation is None:
            raise CommandError(f"There is no generation #{generation_id}.")
        try:
            refund = check_refund_generation(generation, reason=reason, force=force)
        except CannotRefund as error:
            raise CommandError(error.message) from None
        if refund is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Refunded {refund.amount} credits to {generation.user} for generation "
                    f"#{generation.pk}; their balance is now {balance_of(generation.user)}."
                )
            )
        elif CreditTransaction.objects.filter(
            generation=generation, type=TransactionType.REFUND
        ).exists():
            self.stdout.write(f"Generation #{generation.pk} is already refunded; nothing done.")
        else:
            self.stdout.write(f"Generation #{generation.pk} was never charged; nothing done.")
