"""Credits in buckets: every grant is a bucket with its expiry (or none), spending takes the one
expiring first, refunds go back where their charge came from, and expired credits leave the
balance as a ledger row of their own, once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from credits import jobs
from credits.actions import (
    CreditError,
    InsufficientCredits,
    add_credits,
    charge_generation,
    refund_generation_charge,
)
from credits.models import BucketMovement, CreditBucket, CreditTransaction, MovementKind
from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.factories import make_generation, set_credits
from tests.waiting import wait_until
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def queued(user: User, resolution: str = "480p") -> Generation:
    """A t2v-14B generation not charged yet: 10 credits at 480p, 20 at 720p."""
    return make_generation(user, status=Status.QUEUED, resolution=resolution, charged=False)


def held(user: User) -> list[tuple[str, int, int]]:
    """(source, remaining, granted) of every bucket of the user, in spending order."""
    return [
        (bucket.source, bucket.remaining, bucket.granted)
        for bucket in CreditBucket.objects.filter(user=user)
    ]


def drawn(row: CreditTransaction) -> list[tuple[int, int]]:
    """(bucket id, credits) each bucket gave or got back for the ledger row."""
    return list(row.bucket_movements.order_by("pk").values_list("bucket_id", "amount"))


def expiring_soon(user: User, credits: int) -> CreditBucket:
    """A bucket of `credits` expiring in a moment (waited for with `wait_for_expiry`)."""
    row = add_credits(
        user, credits, type="bonus", expires_at=timezone.now() + timedelta(milliseconds=400)
    )
    return CreditBucket.objects.get(transaction=row)


def wait_for_expiry(bucket: CreditBucket) -> None:
    assert bucket.expires_at is not None
    expires_at = bucket.expires_at
    wait_until(lambda: timezone.now() > expires_at, timeout=5, what="the bucket's expiry")


def test_every_grant_makes_a_bucket_that_never_expires_unless_told(user, assert_audit_clean):
    period_end = timezone.now() + 30 * DAY
    add_credits(user, 40, type="purchase", description="a staff sale")
    plan = add_credits(user, 1000, type="bonus", expires_at=period_end)

    buckets = list(CreditBucket.objects.filter(user=user))
    assert [(b.source, b.granted, b.remaining, b.expires_at) for b in buckets] == [
        ("bonus", 1000, 1000, period_end),  # expires first, so it is spent first
        ("bonus", 100, 100, None),  # the welcome bonus
        ("purchase", 40, 40, None),
    ]
    assert buckets[0].transaction == plan
    assert balance_of(user) == 1140
    assert_audit_clean()


@pytest.mark.parametrize(
    ("amount", "expires_in"),
    [(50, -DAY), (50, timedelta(0)), (-50, DAY)],
    ids=["in the past", "now", "on a removal"],
)
def test_an_expiry_must_be_in_the_future_and_on_added_credits(user, amount, expires_in):
    with pytest.raises(CreditError, match="expiry must be in the future"):
        add_credits(user, amount, expires_at=timezone.now() + expires_in)
    assert CreditTransaction.objects.filter(user=user).count() == 1
    assert held(user) == [("bonus", 100, 100)]


def test_spending_takes_the_bucket_expiring_first_then_the_oldest(user, assert_audit_clean):
    now = timezone.now()
    late = add_credits(user, 30, expires_at=now + 10 * DAY)
    soon = add_credits(user, 15, expires_at=now + 5 * DAY)
    add_credits(user, 15, description="never expires, newer than the bonus")
    bucket = {row.pk: CreditBucket.objects.get(transaction=row).pk for row in (late, soon)}
    welcome = CreditBucket.objects.get(user=user, transaction__type="bonus").pk

    first = charge_generation(queued(user, "720p"))  # 20
    second = charge_generation(queued(user, "720p"))  # 20
    third = charge_generation(queued(user, "720p"))  # 20

    assert drawn(first) == [(bucket[soon.pk], -15), (bucket[late.pk], -5)]
    assert drawn(second) == [(bucket[late.pk], -20)]
    assert drawn(third) == [(bucket[late.pk], -5), (welcome, -15)]
    assert held(user) == [
        ("adjustment", 0, 15),
        ("adjustment", 0, 30),
        ("bonus", 85, 100),
        ("adjustment", 15, 15),
    ]
    assert balance_of(user) == 100
    assert_audit_clean()


def test_a_refund_goes_back_to_the_buckets_its_charge_came_from(user, assert_audit_clean):
    add_credits(user, 5, expires_at=timezone.now() + DAY)
    generation = queued(user, "720p")
    charge = charge_generation(generation)

    refund = refund_generation_charge(generation, reason="failed")

    assert refund is not None
    assert [amount for _, amount in drawn(refund)] == [5, 15]
    assert {bucket for bucket, _ in drawn(refund)} == {bucket for bucket, _ in drawn(charge)}
    assert held(user) == [("adjustment", 5, 5), ("bonus", 100, 100)]
    assert refund_generation_charge(generation) is None  # once
    assert_audit_clean()


def test_a_refund_whose_bucket_expired_meanwhile_comes_back_for_the_time_it_had_left(
    user, assert_audit_clean
):
    soon = expiring_soon(user, 15)
    generation = queued(user, "720p")
    charge = charge_generation(generation)  # 15 from the expiring bucket, 5 from the bonus
    wait_for_expiry(soon)

    refund = refund_generation_charge(generation, reason="failed")

    assert refund is not None
    new = CreditBucket.objects.get(transaction=refund)
    assert soon.expires_at is not None and new.expires_at is not None
    # As long as the credits had left when they were charged, counted from the refund.
    left_then = soon.expires_at - charge.created_at
    assert abs(new.expires_at - (refund.created_at + left_then)) < timedelta(seconds=1)
    assert (new.source, new.granted, new.remaining) == ("bonus", 15, 15)
    soon.refresh_from_db()
    assert soon.remaining == 0  # the expired bucket got nothing back
    assert [amount for _, amount in drawn(refund)] == [5]  # the bonus's share went home
    assert balance_of(user) == 115
    assert_audit_clean()


def test_a_refund_of_a_charge_made_before_buckets_comes_back_never_expiring(
    user, assert_audit_clean
):
    generation = queued(user)
    charge = charge_generation(generation)
    # As the migration to buckets leaves a charge made before: it drew from no bucket, and the
    # balance after it is one opening bucket.
    BucketMovement.objects.filter(transaction=charge).delete()
    CreditBucket.objects.filter(user=user).update(
        source="opening", granted=90, remaining=90, transaction=charge
    )

    refund = refund_generation_charge(generation)

    assert refund is not None
    assert held(user) == [("opening", 90, 90), ("refund", 10, 10)]
    assert CreditBucket.objects.get(transaction=refund).expires_at is None
    assert balance_of(user) == 100
    assert_audit_clean()


def test_expired_credits_are_never_spent_and_leave_the_balance_at_the_next_charge(
    user, assert_audit_clean
):
    soon = expiring_soon(user, 50)
    wait_for_expiry(soon)
    assert balance_of(user) == 150  # until the job or their next credit change writes it off

    charge = charge_generation(queued(user))

    expiry, deduction = CreditTransaction.objects.filter(user=user).order_by("pk")[2:]
    assert (expiry.type, expiry.amount, expiry.balance_after) == ("expiry", -50, 100)
    assert "expired" in expiry.description
    assert deduction == charge
    assert drawn(charge) == [(CreditBucket.objects.get(user=user, expires_at=None).pk, -10)]
    assert balance_of(user) == 90
    assert_audit_clean()


def test_a_submission_cannot_pay_with_expired_credits(user):
    set_credits(user, 0)
    soon = expiring_soon(user, 20)
    wait_for_expiry(soon)

    with pytest.raises(InsufficientCredits) as refused:
        charge_generation(queued(user))

    assert refused.value.available == 0
    assert Generation.objects.get().credit_transactions.count() == 0


def test_the_expiry_job_writes_each_expired_bucket_off_once(user, other_user, assert_audit_clean):
    first, second = expiring_soon(user, 50), expiring_soon(other_user, 30)
    add_credits(user, 70, expires_at=timezone.now() + DAY)  # not expired: untouched
    wait_for_expiry(second)

    assert jobs.expire_buckets() == "2 buckets expired for 2 users"
    assert jobs.expire_buckets() == "0 buckets expired for 0 users"

    rows = CreditTransaction.objects.filter(type="expiry").order_by("pk")
    assert [(row.user, row.amount, row.balance_after) for row in rows] == [
        (user, -50, 170),
        (other_user, -30, 100),
    ]
    assert [drawn(row) for row in rows] == [[(first.pk, -50)], [(second.pk, -30)]]
    assert (balance_of(user), balance_of(other_user)) == (170, 100)
    assert_audit_clean()


def test_a_bucket_cannot_expire_twice(user):
    soon = expiring_soon(user, 50)
    wait_for_expiry(soon)
    jobs.expire_buckets()
    row = CreditTransaction.objects.get(type="expiry")

    with pytest.raises(IntegrityError), transaction.atomic():
        BucketMovement.objects.create(
            bucket=soon, transaction=row, kind=MovementKind.EXPIRY, amount=-1
        )


def test_a_negative_adjustment_takes_credits_in_spending_order(user, assert_audit_clean):
    add_credits(user, 30, expires_at=timezone.now() + DAY)
    row = add_credits(user, -50, description="correction")
    assert [amount for _, amount in drawn(row)] == [-30, -20]
    assert held(user) == [("adjustment", 0, 30), ("bonus", 80, 100)]
    assert_audit_clean()


def test_the_admin_grant_makes_a_bucket_of_the_kind_chosen(staff_client, staff, user):
    url = reverse("admin:wan_pwa_user_changelist")
    grant = {"action": "grant_credits", "_selected_action": [user.pk], "apply": "1"}
    staff_client.post(url, grant | {"amount": "25", "type": "bonus", "reason": "sorry"})
    staff_client.post(url, grant | {"amount": "-110", "type": "adjustment", "reason": "fix"})

    assert held(user) == [("bonus", 0, 100), ("bonus", 15, 25)]
    assert CreditBucket.objects.get(granted=25).transaction.created_by == staff
    page = staff_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk]))
    assert "15 bonus credits, never expire" in page.content.decode()


def test_the_audit_finds_a_bucket_changed_behind_its_back(user, other_user):
    add_credits(user, 30, expires_at=timezone.now() + DAY)
    CreditBucket.objects.filter(user=user, granted=30).update(remaining=10)

    err = StringIO()
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("audit_credits", stdout=StringIO(), stderr=err)

    bucket = CreditBucket.objects.get(user=user, granted=30)
    assert "alice: buckets hold 110 credits but the balance is 130" in err.getvalue()
    assert (
        f"alice: bucket {bucket.pk} holds 10 credits, but it was granted 30 and its movements "
        "add up to 0"
    ) in err.getvalue()


def test_the_audit_finds_a_ledger_row_that_moved_no_bucket(user):
    row = add_credits(user, 30)
    CreditBucket.objects.filter(transaction=row).delete()

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit_credits", stdout=StringIO(), stderr=err)
    assert f"ledger row {row.pk} of +30 moved +0 credits in buckets" in err.getvalue()


def test_billing_marks_credits_expired_but_not_yet_written_off(logged_in, user):
    soon = expiring_soon(user, 50)
    wait_for_expiry(soon)

    page = logged_in.get(reverse("billing")).content.decode()

    assert "expired on <time" in page and "(leaving your balance within minutes)" in page
    jobs.expire_buckets()
    page = logged_in.get(reverse("billing")).content.decode()
    assert "expired on" not in page and "100</strong> bonus credits, never expire" in page
