"""The sign-up bonus: only for a verified address, once per address ever, never for disposable
domains, within a daily budget of its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credits import bonus
from credits.bonus import BonusOutcome, address_hash, claim_signup_bonus
from credits.models import BonusBudgetDay, BonusClaim, CreditTransaction
from credits.selectors import balance_of
from tests.factories import PASSWORD
from tests.fixtures.mailbox import body_of
from tests.generations.lifecycle_helpers import run_tasks
from tests.signups import sign_up, verify
from wan_pwa.accounts.deletion import delete_account
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_create_page_asks_a_new_account_to_verify_until_it_has(client, mailbox):
    sign_up(client, "nell", "nell@example.com")
    page = client.get(reverse("create")).content.decode()
    assert "Verify your e-mail address to get your 100 free credits" in page
    verify(client, mailbox, "nell@example.com")
    page = client.get(reverse("create")).content.decode()
    assert "Verify your e-mail address" not in page and 'data-testid="low-credits"' not in page


def test_billing_says_when_free_credits_come(client, make_user):
    client.force_login(make_user("buyer"))
    page = client.get(reverse("billing")).content.decode()
    assert "100 free credits every account gets once, when its e-mail address is verified" in page


def test_a_disposable_address_gets_a_working_account_but_no_bonus(client, mailbox):
    sign_up(client, "temp", "farm123@mailinator.com")
    page = verify(client, mailbox, "farm123@mailinator.com")
    assert "disposable mail services get no free credits" in page
    temp = User.objects.get(username="temp")
    assert balance_of(temp) == 0 and not BonusClaim.objects.exists()
    assert client.get(reverse("create")).status_code == 200  # the account itself works


def test_a_subdomain_of_a_disposable_domain_is_disposable_too():
    assert bonus.is_disposable("x@eu.mailinator.com")
    assert not bonus.is_disposable("x@example.com")


def test_an_address_earns_one_bonus_ever_even_after_its_account_is_gone(mailbox):
    first = Client()
    sign_up(first, "jane", "jane.doe@gmail.com")
    assert "100 free credits are in your balance" in verify(first, mailbox, "jane.doe@gmail.com")
    jane = User.objects.get(username="jane")
    delete_account(jane)  # the ledger keeps its rows; the address and its allauth row go
    assert not EmailAddress.objects.filter(user=jane).exists()

    again = Client()
    sign_up(again, "jane2", "JaneDoe+again@googlemail.com")  # the same Gmail mailbox
    page = verify(again, mailbox, "JaneDoe+again@googlemail.com".lower())
    assert "already received its free credits once" in page
    assert balance_of(User.objects.get(username="jane2")) == 0
    assert CreditTransaction.objects.filter(type="bonus").count() == 1


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Jane.Doe@Gmail.com", "janedoe+promo@googlemail.com", True),
        ("jane+news@example.com", "JANE@example.com", True),
        ("jane.doe@example.com", "janedoe@example.com", False),  # dots matter outside Gmail
        ("jane@example.com", "jane@example.org", False),
    ],
)
def test_addresses_are_compared_in_their_normalised_form(one, other, same):
    assert (address_hash(one) == address_hash(other)) is same


def test_the_address_is_kept_only_as_a_keyed_hash(make_user, settings):
    make_user("kim", email="kim@example.com")
    claim = BonusClaim.objects.get()
    assert "kim" not in claim.address_hash and len(claim.address_hash) == 64
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert address_hash("kim@example.com") != claim.address_hash  # keyed, not a plain digest


def test_a_changed_address_is_confirmed_at_the_new_one_the_old_one_is_told_and_no_second_bonus(
    client, make_user, mailbox
):
    user = make_user("alice")
    client.force_login(user)
    add = {"action_add": "", "email": "alice@new.example"}
    asked = client.post(reverse("account_email"), add)
    assert asked["Location"].startswith(reverse("account_reauthenticate"))  # password first
    client.post(asked["Location"], {"password": PASSWORD})
    client.post(reverse("account_email"), add)
    user.refresh_from_db()
    assert user.email == "alice@example.com"  # not changed until confirmed

    page = verify(client, mailbox, "alice@new.example")
    user.refresh_from_db()
    assert user.email == "alice@new.example"
    assert "free credits" not in page
    run_tasks()  # the notice to the old address, queued by the confirmation
    (notice,) = mailbox.wait_for("alice@example.com")
    assert "Email Changed" in notice["Subject"]
    assert "alice@new.example" in body_of(notice)
    assert CreditTransaction.objects.filter(user=user, type="bonus").count() == 1


def test_past_the_daily_budget_a_bonus_waits_for_the_next_day(make_user, settings):
    settings.SIGNUP_BONUS_DAILY_BUDGET = 150
    first = make_user("first")
    second = make_user("second")
    assert (balance_of(first), balance_of(second)) == (100, 0)
    assert BonusClaim.objects.get(user=second).granted_at is None
    assert bonus.grant_waiting_bonuses() == 0  # still the same day

    today = timezone.localdate()
    BonusBudgetDay.objects.filter(day=today).update(day=today - timedelta(days=1))  # midnight
    assert bonus.grant_waiting_bonuses() == 1
    assert balance_of(second) == 100
    assert bonus.grant_waiting_bonuses() == 0  # granted once


def test_an_account_gets_one_bonus_whatever_it_verifies(make_user):
    user = make_user("ann")
    assert claim_signup_bonus(user, "another@example.com") == BonusOutcome.ACCOUNT_REWARDED
    assert balance_of(user) == 100
