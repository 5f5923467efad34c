"""The back office: one User admin made of the apps' sections (balances, a read-only ledger,
audited credit grants...)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from credits.models import CreditTransaction
from credits.selectors import balance_of
from wan_pwa.accounts import admin as account_admin
from wan_pwa.accounts.admin import UserAdmin, UserSection
from wan_pwa.accounts.api_keys import create_api_key, find_active_key
from wan_pwa.accounts.models import User
from wan_pwa.registry import Registry

pytestmark = pytest.mark.django_db


def test_the_admin_is_titled_with_the_product_name(staff_client):
    body = staff_client.get(reverse("admin:index")).content.decode()
    assert "<title>Users, videos, credits and jobs | Wan PWA admin</title>" in body
    assert "Wan PWA back office" in body
    assert "Django administration" not in body


def test_user_list_shows_balances(staff_client, user):
    response = staff_client.get(reverse("admin:wan_pwa_user_changelist"))
    assert response.status_code == 200
    assert "alice" in response.content.decode()


def test_user_page_shows_a_read_only_ledger_inline(staff_client, user):
    response = staff_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Credit ledger" in body
    assert "Welcome bonus" in body


def test_ledger_admin_allows_no_add_change_or_delete(staff_client, user):
    row = CreditTransaction.objects.get(user=user)
    assert (
        staff_client.get(reverse("admin:credits_credittransaction_changelist")).status_code == 200
    )
    assert staff_client.get(reverse("admin:credits_credittransaction_add")).status_code == 403
    delete_url = reverse("admin:credits_credittransaction_delete", args=[row.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    change_url = reverse("admin:credits_credittransaction_change", args=[row.pk])
    staff_client.post(change_url, {"amount": 999})
    assert CreditTransaction.objects.get(pk=row.pk).amount == 100


def test_grant_action_goes_through_the_ledger_and_records_the_staff_member(
    staff_client, staff, user
):
    url = reverse("admin:wan_pwa_user_changelist")
    form = staff_client.post(url, {"action": "grant_credits", "_selected_action": [user.pk]})
    assert "Grant or adjust credits" in form.content.decode()
    staff_client.post(
        url,
        {
            "action": "grant_credits",
            "_selected_action": [user.pk],
            "apply": "1",
            "amount": "-30",
            "type": "adjustment",
            "reason": "chargeback",
        },
    )
    row = CreditTransaction.objects.filter(user=user)[0]  # the newest
    assert (row.amount, row.type, row.description, row.created_by) == (
        -30,
        "adjustment",
        "chargeback",
        staff,
    )
    assert balance_of(user) == 70


def test_grant_action_refuses_a_negative_balance_with_a_message(staff_client, user):
    response = staff_client.post(
        reverse("admin:wan_pwa_user_changelist"),
        {
            "action": "grant_credits",
            "_selected_action": [user.pk],
            "apply": "1",
            "amount": "-500",
            "type": "adjustment",
            "reason": "oops",
        },
        follow=True,
    )
    assert "negative balance" in response.content.decode()
    assert balance_of(user) == 100


def test_users_added_in_the_admin_get_an_account_and_no_unverified_bonus(
    staff_client, django_user_model
):
    staff_client.post(
        reverse("admin:wan_pwa_user_add"),
        {
            "username": "dave",
            "password1": "pw-123-456-xy",
            "password2": "pw-123-456-xy",
            "usable_password": "true",
        },
    )
    dave = django_user_model.objects.get(username="dave")
    assert dave.credit_balance.balance == 0


def test_staff_can_revoke_a_users_api_key_but_never_see_or_create_one(staff_client, user):
    api_key, raw_key = create_api_key(user, "ci")
    changelist = reverse("admin:wan_pwa_apikey_changelist")
    page = staff_client.get(changelist).content.decode()
    assert api_key.prefix in page
    assert raw_key not in page and api_key.key_hash not in page
    assert staff_client.get(reverse("admin:wan_pwa_apikey_add")).status_code == 403
    staff_client.post(changelist, {"action": "revoke", "_selected_action": [api_key.pk]})
    assert find_active_key(raw_key) is None


def action_names(staff_client) -> list[str]:
    page = staff_client.get(reverse("admin:wan_pwa_user_changelist"))
    return [name for name, _ in page.context["action_form"].fields["action"].choices if name]


def test_one_user_admin_shows_every_apps_sections_in_order(staff_client, user):
    assert type(admin.site._registry[User]) is UserAdmin
    body = staff_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk])).content.decode()
    headings = ["Account status", "API keys", "Credit ledger", "Generations"]
    positions = [body.index(f'class="fieldset-heading">{heading}</h2>') for heading in headings]
    positions.append(body.index("Orders (newest first)"))  # the inline, after the fieldsets
    assert positions == sorted(positions)
    assert action_names(staff_client) == [
        "reactivate",
        "erase_accounts",
        "grant_credits",
        "suspend",
    ]
    listing = staff_client.get(reverse("admin:wan_pwa_user_changelist")).content.decode()
    assert listing.index("column-email") < listing.index("column-balance")
    assert listing.index("column-debt") < listing.index("column-is_staff")


def test_the_apps_registering_again_adds_nothing_twice(staff_client, user):
    for config in apps.get_app_configs():
        config.ready()  # as when tests or a reload run them again
    body = staff_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk])).content.decode()
    assert body.count("Credit ledger") == 1
    assert action_names(staff_client).count("grant_credits") == 1


@admin.action(description="Wave at the selected users", permissions=["wave"])
def wave(modeladmin, request, queryset) -> None:
    modeladmin.message_user(request, f"Waved at {queryset.count()}.")


@pytest.mark.parametrize("allowed", [True, False])
def test_a_sections_action_is_offered_only_with_the_permission_it_asks_for(
    staff_client, user, monkeypatch, allowed
):
    sections = Registry[UserSection]("user admin section")
    for name in account_admin.USER_SECTIONS.names():
        sections.register(name, account_admin.USER_SECTIONS.get(name))
    sections.register(
        "waving", UserSection(actions=(wave,), permissions={"wave": lambda request: allowed})
    )
    monkeypatch.setattr(account_admin, "USER_SECTIONS", sections)
    assert ("wave" in action_names(staff_client)) is allowed
    response = staff_client.post(
        reverse("admin:wan_pwa_user_changelist"),
        {"action": "wave", "_selected_action": [user.pk]},
        follow=True,
    )
    assert ("Waved at 1." in response.content.decode()) is allowed
