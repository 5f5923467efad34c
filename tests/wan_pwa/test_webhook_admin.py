"""The webhooks we send, in the back office: read-only lists and pages for staff with the view
permissions, never the signing secrets; staff without them see nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.factories import make_staff
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks import actions

pytestmark = pytest.mark.django_db
PAGES = ("webhookendpoint", "webhookevent")


def test_staff_with_view_permissions_read_endpoints_and_deliveries_but_no_secret(
    client: Client, user: User
):
    endpoint, secret = actions.create_endpoint(user, "https://hooks.example.com/", ["order.paid"])
    event = actions.send_test_event(endpoint)
    viewer = make_staff("viewer", superuser=False)[0]
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=[f"view_{page}" for page in PAGES])
    )
    client.force_login(viewer)

    for page, obj in zip(PAGES, (endpoint, event), strict=True):
        listing = client.get(reverse(f"admin:wan_pwa_{page}_changelist"))
        assert listing.status_code == 200
        detail = client.get(reverse(f"admin:wan_pwa_{page}_change", args=[obj.pk]))
        assert detail.status_code == 200
        assert secret not in detail.content.decode()
        assert client.get(reverse(f"admin:wan_pwa_{page}_add")).status_code == 403
        delete = reverse(f"admin:wan_pwa_{page}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert (
        event.message_id
        in client.get(reverse("admin:wan_pwa_webhookevent_changelist")).content.decode()
    )
    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_staff_without_the_permissions_see_nothing(client: Client, user: User):
    endpoint, _ = actions.create_endpoint(user, "https://hooks.example.com/", ["order.paid"])
    client.force_login(make_staff("nobody", superuser=False)[0])
    for page in PAGES:
        assert client.get(reverse(f"admin:wan_pwa_{page}_changelist")).status_code == 403
    url = reverse("admin:wan_pwa_webhookendpoint_change", args=[endpoint.pk])
    assert client.get(url).status_code in (302, 403)
