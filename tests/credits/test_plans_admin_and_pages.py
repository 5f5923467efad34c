"""Plans on the pages and in the admin: listed beside the packs on the landing page and in
Billing, edited by staff with the plan permissions only, their terms fixed once Stripe has
their price; and Billing without Stripe keys."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from credits.models import Plan, PlanCheckout
from tests.credits.plan_support import plan
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PLAN_FORM = {
    "name": "Team",
    "credits": "10000",
    "price": "25000",
    "currency": "usd",
    "position": "4",
}


def test_the_landing_page_and_billing_list_the_plans_beside_the_packs(logged_in):
    landing = Client().get("/").content.decode()
    assert 'data-testid="plans"' in landing and 'data-testid="pricing"' in landing
    assert "800 credits a month</strong> for 25.00 USD a month" in landing
    billing = logged_in.get("/settings/billing/").content.decode()
    assert "Subscribe to Pro" in billing and "Buy 500 credits" in billing


def test_staff_with_the_plan_permissions_add_plans_and_others_cannot(client: Client):
    editor, _ = make_staff("editor", superuser=False)
    viewer, _ = make_staff("viewer", superuser=False)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_plan", "change_plan", "view_plan"])
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_plan"))
    client.force_login(viewer)
    assert client.post(reverse("admin:credits_plan_add"), PLAN_FORM).status_code == 403
    client.force_login(editor)
    response = client.post(reverse("admin:credits_plan_add"), PLAN_FORM | {"active": "on"})
    assert response.status_code == 302, response.content
    assert Plan.objects.get(name="Team").credits == 10000


def test_a_plan_sold_on_stripe_keeps_its_terms_and_is_never_deleted(admin_client):
    sold = plan("Pro")
    Plan.objects.filter(pk=sold.pk).update(stripe_price_id="price_test_sold")
    page = admin_client.get(reverse("admin:credits_plan_change", args=[sold.pk])).content.decode()
    assert 'name="price"' not in page and 'name="credits"' not in page and 'name="name"' in page
    delete = admin_client.get(reverse("admin:credits_plan_delete", args=[sold.pk]))
    assert delete.status_code == 403


def test_without_stripe_keys_subscribing_says_so_and_opens_nothing(settings: Settings, logged_in):
    settings.STRIPE_SECRET_KEY = ""
    response = logged_in.post("/settings/billing/subscribe/", {"plan": plan("Pro").pk})
    assert response.status_code == 503
    assert "Payments are not set up" in response.content.decode()
    assert not PlanCheckout.objects.exists()
