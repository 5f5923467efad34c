from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from credits.actions import GRANT_TYPES, CreditError, add_credits
from credits.models import TransactionType


def find_user(identifier: str):
    User = get_user_model()
    matches = list(User.objects.filter(Q(username=identifier) | Q(email__iexact=identifier))[:2])
    if not matches:
        raise CommandError(f"No user has the username or email {identifier!r}.")
    if len(matches) > 1:
        raise CommandError(f"{identifier!r} matches more than one user; use the username.")
    return matches[0]


class Command(BaseCommand):
    help = "Adds credits to a user (a negative adjustment removes them) as one ledger entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("user", help="username or email address")
        parser.add_argument("amount", help="whole number of credits, not zero; negative removes")
        parser.add_argument("--reason", default="", help="shown in the ledger and the admin")
        parser.add_argument(
            "--type",
            dest="kind",
            choices=[t.value for t in GRANT_TYPES],
            default=TransactionType.ADJUSTMENT.value,
            help="ledger entry type (default: adjustment; only adjustments may be negative)",
        )

    def handle(self, *args, user: str, amount: str, reason: str, kind: str, **options) -> None:
        try:
            credits = int(amount)
        except ValueError:
            raise CommandError(f"The amount must be a whole number, not {amount!r}.") from None
        if credits == 0:
            raise CommandError("The amount must not be zero.")
        target = find_user(user)
        description = reason or f"Granted with manage.py grant_credits ({kind})"
        try:
            row = add_credits(target, credits, type=kind, description=description)
        except CreditError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{credits:+d} credits for {target.username}; balance is now {row.balance_after}."
            )
        )
