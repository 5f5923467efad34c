from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from generations.lifecycle import watchdog
from generations.models import Generation


class Command(BaseCommand):
    help = (
        "Brings every stale in-flight generation up to date with Replicate (the watchdog's "
        "check, on demand) and prints what it did for each."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Only generations unchanged for this long (default: WATCHDOG_FIRST_DELAY).",
        )

    def handle(self, *args, older_than: int | None, **options) -> None:
        if older_than is None:
            older_than = settings.WATCHDOG_FIRST_DELAY
        cutoff = timezone.now() - timedelta(seconds=max(0, older_than))
        stale = Generation.objects.in_flight().filter(updated_at__lt=cutoff).order_by("created_at")
        checked = 0
        for generation in stale.iterator():
            checked += 1
            was = generation.status
            result = watchdog.check(generation)
            self.stdout.write(f"#{generation.pk} ({was}): {result}")
        self.stdout.write(
            self.style.SUCCESS(f"Checked {checked} stale generation{'s' * (checked != 1)}.")
        )
