from django.core.management.base import BaseCommand, CommandError

from credits.audit import audit_credits


class Command(BaseCommand):
    help = "Checks that every balance equals the sum of its ledger and the ledger chain is intact."

    def handle(self, *args, **options) -> None:
        report = audit_credits()
        for mismatch in report.mismatches:
            self.stderr.write(f"MISMATCH {mismatch}")
        if not report.clean:
            raise CommandError(
                f"{len(report.mismatches)} mismatch(es) found across {report.users} users."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Credits audit clean: {report.users} users, {report.transactions} ledger rows, "
                f"{report.total_balance} credits outstanding."
            )
        )
