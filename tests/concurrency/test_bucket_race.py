"""Buckets under real threads against PostgreSQL: concurrent submissions draw from the bucket
expiring first, one at a time under the balance lock, and the expiry job racing them writes
each expired bucket off once."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from credits import jobs
from credits.actions import add_credits
from credits.models import CreditBucket, CreditTransaction, TransactionType
from credits.selectors import balance_of
from tests.concurrency.threads import race
from tests.generations.lifecycle_helpers import submit
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replicate_settings"),
]


@pytest.fixture
def unlimited(settings) -> None:
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100


def kinds(results: list) -> Counter:
    return Counter(type(result).__name__ for result in results)


def submissions(user, count: int) -> list:
    return [
        functools.partial(submit, user, f"Concurrent submission number {n}", model_key="t2v-14B")
        for n in range(count)
    ]


@pytest.mark.usefixtures("unlimited")
def test_concurrent_submissions_spend_the_buckets_expiring_first_in_order(user, assert_audit_clean):
    now = timezone.now()
    later = add_credits(user, 50, expires_at=now + timedelta(days=2))
    sooner = add_credits(user, 30, expires_at=now + timedelta(days=1))
    # 180 credits at 10 a video: 18 get through.
    results = race(submissions(user, 20))

    assert kinds(results) == {"Generation": 18, "InsufficientCredits": 2}
    order = [
        CreditBucket.objects.get(transaction=sooner).pk,
        CreditBucket.objects.get(transaction=later).pk,
        CreditBucket.objects.get(user=user, expires_at=None).pk,
    ]
    sources = [
        row.bucket_movements.get().bucket_id  # 10 credits never straddle these buckets
        for row in CreditTransaction.objects.filter(type=TransactionType.DEDUCTION).order_by("pk")
    ]
    assert sources == [order[0]] * 3 + [order[1]] * 5 + [order[2]] * 10
    assert not CreditBucket.objects.filter(remaining__gt=0).exists()
    assert balance_of(user) == 0
    assert_audit_clean()


@pytest.mark.usefixtures("unlimited")
def test_the_expiry_job_racing_submissions_writes_the_bucket_off_once(user, assert_audit_clean):
    row = add_credits(user, 50, expires_at=timezone.now() + timedelta(milliseconds=300))
    expires_at = CreditBucket.objects.get(transaction=row).expires_at
    assert expires_at is not None
    wait_until(lambda: timezone.now() > expires_at, timeout=5, what="the bucket's expiry")

    results = race([jobs.expire_buckets, jobs.expire_buckets, *submissions(user, 6)])

    assert kinds(results) == {"str": 2, "Generation": 6}
    expiry = CreditTransaction.objects.get(type=TransactionType.EXPIRY)
    assert expiry.amount == -50
    assert balance_of(user) == 40  # the 100 bonus less 60: nothing came from the expired 50
    assert_audit_clean()
