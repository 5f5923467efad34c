"""`manage.py refund_generation` and `manage.py refund_failed`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from credits.actions import refund_generation_charge
from credits.models import CreditTransaction
from credits.selectors import balance_of
from generations.failures import FailureReason
from generations.models import Generation, Status
from tests.generations.lifecycle_helpers import (
    refunds_of,
    submit,
)
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.usefixtures("replicate_settings")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def ended(user: User, status: Status, **fields: Any) -> Generation:
    """A generation that ended without its refund (as after a bug or a crash mid-way)."""
    generation = submit(user)
    if status == Status.SUCCEEDED:
        fields.setdefault("video", "videos/done.mp4")
    elif status in (Status.FAILED, Status.CANCELED):
        fields.setdefault("failure_reason", FailureReason.PROVIDER_ERROR)
    Generation.objects.filter(pk=generation.pk).update(
        status=status, prediction_id=f"p-{generation.pk}", **fields
    )
    generation.refresh_from_db()
    return generation


def test_refund_generation_refunds_once_and_a_second_run_changes_nothing(user, assert_audit_clean):
    generation = ended(user, Status.FAILED)

    first = run("refund_generation", str(generation.pk), "--reason", "support ticket 12")
    rows = CreditTransaction.objects.count()
    second = run("refund_generation", str(generation.pk))

    assert "Refunded 5 credits to alice" in first
    assert "already refunded" in second
    assert CreditTransaction.objects.count() == rows
    assert refunds_of(generation) == 1
    assert balance_of(user) == 100
    refund = CreditTransaction.objects.get(generation=generation, type="refund")
    assert "support ticket 12" in refund.description
    assert_audit_clean()


def test_refund_generation_refuses_a_succeeded_generation_without_force(user, assert_audit_clean):
    generation = ended(user, Status.SUCCEEDED)

    with pytest.raises(CommandError, match="--force"):
        run("refund_generation", str(generation.pk))
    assert refunds_of(generation) == 0

    output = run("refund_generation", str(generation.pk), "--force", "--reason", "goodwill")
    assert "Refunded 5 credits" in output
    assert refunds_of(generation) == 1
    assert_audit_clean()


def test_refund_generation_refuses_a_running_generation(user):
    generation = ended(user, Status.PROCESSING)

    with pytest.raises(CommandError, match="cancel it instead"):
        run("refund_generation", str(generation.pk))
    assert refunds_of(generation) == 0


def test_refund_generation_of_an_unknown_id_is_an_error(db):
    with pytest.raises(CommandError, match="no generation #424242"):
        run("refund_generation", "424242")


def test_refund_failed_refunds_every_unrefunded_failure_and_sums_up(
    user, make_user, assert_audit_clean
):
    bob = make_user("bob")
    failed = ended(user, Status.FAILED)
    canceled = ended(bob, Status.CANCELED)
    already = ended(user, Status.FAILED)
    refund_generation_charge(already)
    succeeded = ended(user, Status.SUCCEEDED)
    running = ended(user, Status.PROCESSING)

    output = run("refund_failed")

    assert f"#{failed.pk} (failed, alice): refunded 5" in output
    assert f"#{canceled.pk} (canceled, bob): refunded 5" in output
    assert "Refunded 2 generation(s), 10 credits." in output
    assert [refunds_of(g) for g in (failed, canceled, already, succeeded, running)] == [
        1,
        1,
        1,
        0,
        0,
    ]
    assert "Refunded 0 generation(s), 0 credits." in run("refund_failed")
    assert_audit_clean()


def test_refund_failed_dry_run_changes_nothing(user):
    failed = ended(user, Status.FAILED)
    rows = CreditTransaction.objects.count()

    output = run("refund_failed", "--dry-run")

    assert f"#{failed.pk} (failed, alice): would refund 5" in output
    assert "Dry run: would refund 1 generation(s), 5 credits." in output
    assert CreditTransaction.objects.count() == rows


def test_refund_failed_since_a_day_leaves_older_failures(user):
    old = ended(user, Status.FAILED, created_at=timezone.now() - timedelta(days=10))
    new = ended(user, Status.FAILED)
    since = (timezone.now() - timedelta(days=2)).date().isoformat()

    output = run("refund_failed", "--since", since)

    assert "Refunded 1 generation(s), 5 credits." in output
    assert (refunds_of(old), refunds_of(new)) == (0, 1)


@pytest.mark.parametrize("since", ["yesterday", "2025-02-30", "2025-13-01"])
def test_refund_failed_rejects_a_bad_date(db, since):
    with pytest.raises(CommandError, match="--since"):
        run("refund_failed", "--since", since)
