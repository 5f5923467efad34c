"""`manage.py storage_report [--top N]`: what the stored files take, by kind, and who uses most."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from generations.models import Generation
from generations.retention import FOLDERS, referenced_files, storage, stored_files


class Command(BaseCommand):
    help = (
        "Prints the storage used by input images, audio tracks, videos and posters, orphans, "
        "and top users."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--top", type=int, default=10, help="Users to list (default 10).")

    def handle(self, *args: Any, top: int, **options: Any) -> None:
        if top < 1:
            raise CommandError("--top must be at least 1.")
        referenced = referenced_files()
        sizes: dict[str, int] = {}
        self.stdout.write(f"{'kind':<11} {'files':>7} {'size':>10} {'orphans':>8}")
        for folder, kind in FOLDERS.items():
            names = list(stored_files(folder))
            sizes.update((name, storage().size(name)) for name in names)
            orphans = [name for name in names if name not in referenced]
            used = sum(sizes[name] for name in names)
            self.stdout.write(
                f"{kind:<11} {len(names):>7} {filesizeformat(used):>10} {len(orphans):>8}"
            )
        self.stdout.write(f"total: {filesizeformat(sum(sizes.values()))}")

        per_user: Counter[str] = Counter()
        files = Generation.objects.values_list("user__username", *FOLDERS.values())
        for username, *names in files.iterator():
            per_user[username] += sum(sizes.get(name, 0) for name in names if name)
        self.stdout.write(f"\ntop {top} users")
        for username, used in per_user.most_common(top):
            if used:
                self.stdout.write(f"{username:<30} {filesizeformat(used):>10}")
