"""The credit actions and the database guards behind them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from credits.actions import (
    CreditError,
    InsufficientCredits,
    add_credits,
    charge_generation,
    refund_generation_charge,
)
from credits.models import AppendOnlyError, CreditBalance, CreditTransaction, TransactionType
from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.factories import make_generation, set_credits
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db


def queued(user: User, resolution: str = "480p") -> Generation:
    """A t2v-14B generation not charged yet: 10 credits at 480p, 20 at 720p."""
    return make_generation(user, status=Status.QUEUED, resolution=resolution, charged=False)


def test_new_user_gets_one_welcome_bonus_of_100(user, assert_audit_clean):
    rows = list(CreditTransaction.objects.filter(user=user))
    assert [(r.type, r.amount, r.balance_after) for r in rows] == [("bonus", 100, 100)]
    assert balance_of(user) == 100
    assert_audit_clean()


@pytest.mark.parametrize("kind", ["bonus", "purchase", "adjustment"])
def test_add_credits_writes_ledger_row_and_balance_together(user, kind, assert_audit_clean):
    row = add_credits(user, 25, type=kind, description="thanks")
    assert (row.type, row.amount, row.balance_after, row.description) == (kind, 25, 125, "thanks")
    assert balance_of(user) == 125
    assert_audit_clean()


def test_negative_adjustment_removes_credits_but_never_below_zero(user):
    add_credits(user, -40, type="adjustment", description="correction")
    assert balance_of(user) == 60
    with pytest.raises(CreditError, match="negative balance"):
        add_credits(user, -61, type="adjustment")
    assert balance_of(user) == 60
    assert CreditTransaction.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("amount", "kind", "message"),
    [
        (0, "bonus", "other than zero"),
        (-5, "bonus", "Only an adjustment"),
        (5, "deduction", "can only be added"),
        (5, "refund", "can only be added"),
    ],
)
def test_add_credits_refuses_bad_grants_and_writes_nothing(user, amount, kind, message):
    with pytest.raises(CreditError, match=message):
        add_credits(user, amount, type=kind)
    assert balance_of(user) == 100
    assert CreditTransaction.objects.filter(user=user).count() == 1


def test_charge_takes_the_cost_and_links_the_generation(user, assert_audit_clean):
    generation = queued(user, "720p")
    row = charge_generation(generation)
    assert (row.type, row.amount, row.balance_after, row.generation) == (
        "deduction",
        -20,
        80,
        generation,
    )
    assert balance_of(user) == 80
    assert_audit_clean()


def test_charge_without_enough_credits_says_needed_and_available(user):
    set_credits(user, 5)
    generation = queued(user)
    with pytest.raises(InsufficientCredits) as raised:
        charge_generation(generation)
    assert (raised.value.needed, raised.value.available) == (10, 5)
    assert "needs 10 credits but only 5" in str(raised.value)
    assert balance_of(user) == 5
    assert not CreditTransaction.objects.filter(generation=generation).exists()


def test_refund_gives_back_the_charge_exactly_once(user, assert_audit_clean):
    generation = queued(user)
    charge_generation(generation)
    refund = refund_generation_charge(generation, reason="model failed")
    assert refund is not None
    assert (refund.type, refund.amount, refund.balance_after) == ("refund", 10, 100)
    assert "model failed" in refund.description
    assert refund_generation_charge(generation) is None
    assert balance_of(user) == 100
    assert CreditTransaction.objects.filter(generation=generation, type="refund").count() == 1
    assert_audit_clean()


def test_refund_of_a_never_charged_generation_does_nothing(user):
    generation = queued(user)
    assert refund_generation_charge(generation) is None
    assert balance_of(user) == 100


def test_a_second_deduction_for_one_generation_is_refused_by_the_database(user):
    generation = queued(user)
    charge_generation(generation)
    with pytest.raises(IntegrityError), transaction.atomic():
        charge_generation(generation)
    assert balance_of(user) == 90


def test_a_second_refund_row_is_refused_by_the_database(user):
    generation = queued(user)
    charge_generation(generation)
    refund_generation_charge(generation)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(
            user=user, amount=10, type="refund", generation=generation, balance_after=110
        )


def test_a_refund_that_differs_from_its_deduction_is_refused_by_the_database(user):
    generation = queued(user)
    charge_generation(generation)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(
            user=user, amount=15, type="refund", generation=generation, balance_after=105
        )


def test_a_refund_without_a_deduction_is_refused_by_the_database(user):
    generation = queued(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(
            user=user, amount=10, type="refund", generation=generation, balance_after=110
        )


def test_a_negative_balance_is_refused_by_the_database(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditBalance.objects.filter(user=user).update(balance=-1)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "deduction", "amount": 10},  # a deduction must be negative
        {"type": "deduction", "amount": -10, "generation": None},  # and belong to a generation
        {"type": "bonus", "amount": -10},  # a bonus must be positive
        {"type": "bonus", "amount": 0},
        {"type": "gift", "amount": 10},
    ],
)
def test_ledger_rows_that_break_the_type_rules_are_refused(user, fields):
    generation = queued(user)
    values = {"user": user, "generation": generation, "balance_after": 100, **fields}
    if values["type"] in ("bonus", "gift"):
        values["generation"] = None
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(**values)


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_orm(user):
    row = CreditTransaction.objects.get(user=user)
    row.amount = 1000
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        CreditTransaction.objects.filter(user=user).update(amount=1000)
    with pytest.raises(AppendOnlyError):
        CreditTransaction.objects.filter(user=user).delete()
    with pytest.raises(AppendOnlyError):
        CreditTransaction.objects.bulk_update([row], ["amount"])
    assert CreditTransaction.objects.get(user=user).amount == 100


@pytest.mark.postgres
def test_postgres_refuses_raw_sql_updates_and_deletes_of_the_ledger(user):
    for statement in (
        "UPDATE credits_credittransaction SET amount = 1000",
        "DELETE FROM credits_credittransaction",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert CreditTransaction.objects.get(user=user).amount == 100


def test_transaction_type_choices_are_the_five_of_the_design_purchases_and_expiry():
    assert set(TransactionType.values) == {
        *("bonus", "purchase", "deduction", "refund", "adjustment"),
        *("clawback", "reinstate"),  # a refunded or disputed order's credits, and their return
        "expiry",  # what was left of a bucket of credits at its expiry
    }
