"""grant_credits and audit_credits, as an operator runs them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from credits.actions import refund_generation_charge
from credits.models import CreditTransaction
from credits.selectors import balance_of
from generations.models import Status
from tests.factories import make_generation

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_grant_credits_by_username_records_one_adjustment(user):
    output = run("grant_credits", "alice", "50", "--reason", "support ticket 12")
    assert "+50 credits for alice; balance is now 150" in output
    row = CreditTransaction.objects.filter(user=user)[0]  # the newest
    assert (row.type, row.amount, row.description) == ("adjustment", 50, "support ticket 12")


def test_grant_credits_by_email_as_a_purchase(user):
    run("grant_credits", "ALICE@example.com", "20", "--type", "purchase")
    assert CreditTransaction.objects.filter(user=user)[0].type == "purchase"
    assert balance_of(user) == 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "5"), "No user has the username or email 'nobody'"),
        (("alice", "0"), "must not be zero"),
        (("alice", "1.5"), "must be a whole number"),
        (("alice", "ten"), "must be a whole number"),
        (("alice", "-101"), "negative balance"),
        (("alice", "-5", "--type", "bonus"), "Only an adjustment can remove credits"),
    ],
)
def test_grant_credits_refuses_bad_arguments_and_writes_nothing(user, args, message):
    with pytest.raises(CommandError, match=message):
        run("grant_credits", *args)
    assert balance_of(user) == 100
    assert CreditTransaction.objects.filter(user=user).count() == 1


def test_audit_is_clean_after_charges_and_refunds(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    for owner in (alice, bob):  # charged 5 each; bob's is then refunded
        generation = make_generation(
            owner,
            status=Status.QUEUED,
            model_key="t2v-1.3B",
            aspect_ratio="9:16",
            prompt="a cat surfing a wave",
        )
    refund_generation_charge(generation)
    output = run("audit_credits")
    assert "Credits audit clean: 2 users, 5 ledger rows, 195 credits outstanding." in output


def test_audit_finds_a_balance_changed_behind_its_back(make_user):
    make_user("alice")
    make_user("bob")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credits_creditbalance SET balance = 250 WHERE user_id = "
            "(SELECT id FROM wan_pwa_user WHERE username = 'bob')"
        )
    err = StringIO()
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("audit_credits", stdout=StringIO(), stderr=err)
    assert "MISMATCH bob: balance is 250 but the ledger sums to 100" in err.getvalue()
    assert "MISMATCH bob: buckets hold 100 credits but the balance is 250" in err.getvalue()


def test_audit_finds_a_broken_balance_after_chain(user):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO credits_credittransaction "
            "(user_id, amount, type, description, balance_after, created_at) "
            "VALUES (%s, 5, 'bonus', 'forged', 500, CURRENT_TIMESTAMP)",
            [user.pk],
        )
        cursor.execute(
            "UPDATE credits_creditbalance SET balance = 105 WHERE user_id = %s", [user.pk]
        )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit_credits", stdout=StringIO(), stderr=err)
    assert "says balance_after=500, expected 105" in err.getvalue()
