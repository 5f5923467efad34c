"""Moving the existing accounts to allauth: every user's e-mail becomes a verified address of
theirs (so nobody loses log-in by e-mail or resets), and the bonus they got at sign-up counts as
claimed, for the account and for the address."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from credits.bonus import BonusOutcome, claim_signup_bonus
from credits.models import BonusClaim, TransactionType
from tests.factories import PASSWORD
from wan_pwa.accounts.models import User

BEFORE = [("wan_pwa", "0008_user_deletion"), ("credits", "0009_order_canceled_status")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_existing_users_keep_their_address_verified_and_their_bonus_counted(client):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # Users as the app made them before: the bonus at sign-up, no allauth address.
    OldUser = executor.loader.project_state(BEFORE).apps.get_model("wan_pwa", "User")
    made = [
        OldUser.objects.create(username=name, email=email, password=make_password(PASSWORD)).pk
        for name, email in [("old-timer", "Old.Timer@example.com"), ("no-mail", "")]
    ]
    # The bonus as the ledger of then held it (today's actions need tables it did not have).
    old_credits = executor.loader.project_state(BEFORE).apps
    old_credits.get_model("credits", "CreditBalance").objects.create(user_id=made[0], balance=100)
    old_credits.get_model("credits", "CreditTransaction").objects.create(
        user_id=made[0],
        amount=100,
        type=TransactionType.BONUS,
        description="Welcome bonus",
        balance_after=100,
    )

    executor = MigrationExecutor(connection)  # a fresh graph: the applied state changed
    executor.migrate(executor.loader.graph.leaf_nodes())

    old, quiet = (User.objects.get(pk=pk) for pk in made)
    address = EmailAddress.objects.get(user=old)
    assert (address.email, address.verified, address.primary) == (
        "old.timer@example.com",
        True,
        True,
    )
    assert not EmailAddress.objects.filter(user=quiet).exists()
    claim = BonusClaim.objects.get(user=old)
    assert claim.granted_at is not None and claim.credits == 100
    assert claim_signup_bonus(old, "another@example.com") == BonusOutcome.ACCOUNT_REWARDED
    newcomer = User.objects.create_user("newcomer", "oldtimer@example.com", PASSWORD)
    assert claim_signup_bonus(newcomer, "old.timer@example.com") == BonusOutcome.ADDRESS_USED
    response = client.post(
        "/accounts/login/", {"login": "OLD.TIMER@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302  # log-in by e-mail works for the old account
