"""Sign-ups per hour for the staff dashboard (wan_pwa.analytics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count as Rows

from wan_pwa.accounts.models import User
from wan_pwa.analytics.rollup import Count, fill, per_hour


def roll_up() -> str:
    """Periodic job: refreshes the sign-up counts."""
    return fill("accounts", hourly_counts)


def hourly_counts(start: datetime, end: datetime) -> Iterator[Count]:
    joined = User.objects.filter(date_joined__gte=start, date_joined__lt=end)
    for row in per_hour(joined, "date_joined").values("hour").annotate(n=Rows("id")):
        yield Count("signups", "", row["hour"], row["n"])
