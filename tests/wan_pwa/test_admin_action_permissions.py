"""Admin actions by permission: every action of every registered admin declares what it needs,
and a staff member who may only look runs none of those that change money, keys or accounts,
even by posting the action's form to the changelist by hand."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import IntegrityError
from django.test import Client, RequestFactory
from django.urls import reverse

from credits.models import CreditBalance, CreditTransaction, Order, TransactionType
from credits.selectors import balance_of
from generations.actions.sharing import enable_sharing, set_feature_consent
from generations.models import Generation, Status
from tests.credits.stripe_support import buy
from tests.factories import make_generation, make_staff
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.accounts.suspension import mark_suspended

pytestmark = pytest.mark.django_db

# Where staff may delete rows in the admin; everywhere else rows are evidence (the ledger,
# orders, event logs, revoked keys) or change only through actions.
# A lost second factor is deleted so its owner can set up a new one.
DELETABLE = {"auth.Group", "credits.CreditPack", "mfa.Authenticator"}

# What each action's intermediate form asks for, and the confirmation of the delete action.
ACTION_FORM = {
    "apply": "1",
    "amount": "5000",
    "type": "adjustment",
    "reason": "posted by hand",
    "post": "yes",
}


def superuser_actions(superuser: User) -> list[tuple[admin.ModelAdmin, str]]:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    return [
        (model_admin, name)
        for model_admin in admin.site._registry.values()
        for name in model_admin.get_actions(request)
    ]


def changelist(model_admin: admin.ModelAdmin) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def test_every_registered_admin_action_declares_its_permissions():
    undeclared, unchecked = [], []
    for model, model_admin in admin.site._registry.items():
        names = [*dict(admin.site.actions), *(model_admin.actions or ())]
        for name in names:
            action = model_admin.get_action(name)
            assert action is not None, f"{model._meta.label} lists an unknown action {name}"
            function = action[0]
            permissions = getattr(function, "allowed_permissions", None)
            if not permissions:
                undeclared.append(f"{model._meta.label}.{name}")
            for permission in permissions or ():
                if not hasattr(model_admin, f"has_{permission}_permission"):
                    unchecked.append(f"{model._meta.label}.{name}: {permission}")
    assert undeclared == []
    assert unchecked == []


def test_only_the_admins_where_deleting_is_allowed_offer_delete_selected(staff):
    offering = {
        model_admin.model._meta.label
        for model_admin, name in superuser_actions(staff)
        if name == "delete_selected"
    }
    assert offering == DELETABLE


def state(stripe_sim) -> dict[str, Any]:
    """What the actions could change: balances, the ledger, keys, accounts, orders and the
    refunds asked of Stripe, generations and packs."""
    return {
        "balances": list(CreditBalance.objects.order_by("user_id").values_list()),
        "ledger": CreditTransaction.objects.count(),
        "keys": list(ApiKey.objects.order_by("pk").values_list("pk", "revoked_at")),
        "users": list(User.objects.order_by("pk").values_list("pk", "is_active", "suspended_at")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "status", "amount_refunded")),
        "stripe_refunds": sum(o["object"] == "refund" for o in stripe_sim.state.objects.values()),
        "generations": list(
            Generation.objects.order_by("pk").values_list("pk", "status", "featured_at")
        ),
    }


@pytest.fixture
def viewer(make_user) -> User:
    """Staff holding every view permission of the site, and nothing else."""
    member = make_staff("viewer", superuser=False)[0]
    member.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return member


def test_a_staff_member_with_view_permissions_runs_no_action_that_changes_anything(
    stripe_sim, staff, viewer, user, make_user, client: Client
):
    buy(stripe_sim, user, 500)  # a paid order and its Stripe events
    create_api_key(user, "ci")
    make_generation(user, status=Status.PROCESSING)
    set_feature_consent(enable_sharing(make_generation(user)), True)  # one staff could feature
    suspended = make_user("sam")
    mark_suspended(suspended, by=staff, reason="spam")
    before = state(stripe_sim)
    client.force_login(viewer)

    tried = []
    for model_admin, name in superuser_actions(staff):
        selected = list(model_admin.model._default_manager.values_list("pk", flat=True))
        response = client.post(
            changelist(model_admin), {"action": name, "_selected_action": selected, **ACTION_FORM}
        )
        assert response.status_code in (200, 302), (name, response.status_code)
        tried.append(f"{model_admin.model._meta.label}.{name}")

    assert state(stripe_sim) == before
    assert balance_of(viewer) == 100
    assert {
        "wan_pwa.User.grant_credits",
        "wan_pwa.ApiKey.revoke",
        "credits.Order.refund",
        "generations.Generation.feature",
    } <= set(tried)


def test_the_same_posts_by_a_superuser_do_act(stripe_sim, staff, user, staff_client):
    """The form above is the one that works when the permission is there."""
    staff_client.post(
        reverse("admin:wan_pwa_user_changelist"),
        {"action": "grant_credits", "_selected_action": [user.pk], **ACTION_FORM},
    )
    assert balance_of(user) == 5100


def test_granting_credits_needs_its_own_permission_and_names_who_granted(
    make_user, user, client: Client
):
    changer = make_staff("changer", superuser=False)[0]
    changer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    granter = make_staff("granter", superuser=False)[0]
    granter.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "grant_credits"])
    )
    url = reverse("admin:wan_pwa_user_changelist")
    grant = {"action": "grant_credits", "_selected_action": [user.pk], **ACTION_FORM}

    client.force_login(changer)
    client.post(url, grant)
    assert balance_of(user) == 100
    client.force_login(granter)
    client.post(url, {**grant, "amount": "25", "reason": "goodwill"})

    row = CreditTransaction.objects.filter(user=user)[0]
    assert (row.amount, row.description, row.created_by) == (25, "goodwill", granter)
    assert balance_of(user) == 125


def test_revoking_a_key_needs_the_change_permission_of_keys(make_user, user, client: Client):
    api_key, _ = create_api_key(user, "ci")
    member = make_staff("keykeeper", superuser=False)[0]
    member.user_permissions.set(Permission.objects.filter(codename="change_apikey"))
    client.force_login(member)

    client.post(
        reverse("admin:wan_pwa_apikey_changelist"),
        {"action": "revoke", "_selected_action": [api_key.pk]},
    )

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_only_a_grant_may_name_a_staff_author_in_the_ledger(staff, user):
    generation = make_generation(user, status=Status.QUEUED, charged=False)
    with pytest.raises(IntegrityError):
        CreditTransaction.objects.create(
            user=user,
            amount=-10,
            type=TransactionType.DEDUCTION,
            generation=generation,
            balance_after=90,
            created_by=staff,
        )
