"""The data migration to buckets: each user's balance becomes one bucket that never expires,
the ledger stays as it was, and what happens afterwards is bucketed (a charge made before it
and refunded after comes back as credits that never expire)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from credits.actions import add_credits, refund_generation_charge
from credits.models import CreditBucket, CreditTransaction
from generations.models import Status
from tests.factories import make_generation

BEFORE = [("credits", "0011_stripe_customers")]


@pytest.mark.django_db(transaction=True)
def test_each_balance_becomes_one_bucket_that_never_expires(make_user, assert_audit_clean):
    rich = make_user("rich")  # the 100 credit bonus
    add_credits(rich, 50, type="purchase")
    running = make_generation(rich, status=Status.QUEUED)  # 10 credits taken
    spent = make_user("spent", credits=0)
    make_user("never-verified", email="")  # no ledger row, no credits
    rows_before = CreditTransaction.objects.count()

    MigrationExecutor(connection).migrate(BEFORE)
    executor = MigrationExecutor(connection)  # a fresh graph: the applied state changed
    executor.migrate(executor.loader.graph.leaf_nodes())

    buckets = CreditBucket.objects.order_by("user__username")
    assert [(b.user, b.source, b.granted, b.remaining, b.expires_at) for b in buckets] == [
        (rich, "opening", 140, 140, None),
        (spent, "opening", 0, 0, None),  # marks where their bucketed ledger starts
    ]
    assert buckets[0].transaction == CreditTransaction.objects.filter(user=rich).latest("pk")
    assert CreditTransaction.objects.count() == rows_before
    assert_audit_clean()

    refund = refund_generation_charge(running, reason="failed")

    assert refund is not None
    refunded = CreditBucket.objects.get(transaction=refund)
    assert (refunded.source, refunded.granted, refunded.expires_at) == ("refund", 10, None)
    assert_audit_clean()
