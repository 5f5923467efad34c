"""Scoped API keys: each operation needs its scope, a key without it gets 403
`insufficient_scope` naming the scope, and nothing changes; a session has every scope."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from credits.models import CreditPack, Order
from credits.selectors import balance_of
from generations.models import Generation, Status
from tests.api.payloads import EVERY_SCOPE, T2V
from tests.factories import api_client, make_generation
from wan_pwa.accounts.api_keys import create_api_key, revoke_api_key
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.api.scopes import HasScope, required_scope

pytestmark = pytest.mark.django_db

READ_ONLY = ["generations:read", "credits:read"]


def client_with(user: User, scopes: Sequence[str]) -> APIClient:
    return api_client(key=create_api_key(user, "scoped", scopes=scopes)[1])


def assert_refused(response, scope: str) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["required_scope"] == scope
    assert error["doc_url"].endswith("/api/docs/errors/#insufficient_scope")


def test_keys_made_before_scopes_have_every_scope(user):
    api_key, _ = create_api_key(user, "old")
    assert api_key.scopes == EVERY_SCOPE
    # The migration's default is the same function: an existing row reads all four.
    assert ApiKey._meta.get_field("scopes").get_default() == EVERY_SCOPE


def test_a_read_only_key_reads_but_cannot_submit_cancel_delete_star_or_retry(user):
    client = client_with(user, READ_ONLY)
    running = make_generation(user, status=Status.PROCESSING)
    failed = make_generation(user, status=Status.FAILED, charged=False)
    balance = balance_of(user)

    assert client.get("/api/v1/generations/").status_code == 200
    assert client.get(f"/api/v1/generations/{running.pk}/").status_code == 200
    assert client.get("/api/v1/credits/").status_code == 200
    assert client.get("/api/v1/credits/ledger/").status_code == 200
    write = "generations:write"
    assert_refused(client.post("/api/v1/generations/", T2V, format="json"), write)
    assert_refused(client.post(f"/api/v1/generations/{running.pk}/cancel/"), write)
    assert_refused(client.post(f"/api/v1/generations/{failed.pk}/retry/"), write)
    assert_refused(client.post(f"/api/v1/generations/{running.pk}/star/"), write)
    assert_refused(client.delete(f"/api/v1/generations/{running.pk}/star/"), write)
    assert_refused(client.delete(f"/api/v1/generations/{failed.pk}/"), write)

    running.refresh_from_db()
    assert running.status == Status.PROCESSING and not running.starred
    assert Generation.objects.filter(user=user).count() == 2
    assert Generation.objects.get(pk=failed.pk).deleted_at is None
    assert balance_of(user) == balance


def test_a_key_without_billing_cannot_start_a_checkout(user):
    pack = CreditPack.objects.create(name="Starter", credits=100, price=500, currency="usd")
    client = client_with(user, ["generations:read", "generations:write", "credits:read"])
    response = client.post("/api/v1/credits/checkout/", {"pack_id": pack.pk}, format="json")
    assert_refused(response, "billing")
    assert not Order.objects.filter(user=user).exists()


def test_a_key_without_credits_read_cannot_see_the_balance_or_ledger(user):
    client = client_with(user, ["generations:read"])
    assert_refused(client.get("/api/v1/credits/"), "credits:read")
    assert_refused(client.get("/api/v1/credits/ledger/"), "credits:read")
    assert_refused(client.get("/api/v1/credits/packs/"), "credits:read")


def test_a_write_only_key_cannot_read_generations_or_their_videos(user):
    generation = make_generation(user, status=Status.SUCCEEDED)
    client = client_with(user, ["generations:write"])
    assert_refused(client.get("/api/v1/generations/"), "generations:read")
    assert_refused(client.get(f"/api/v1/generations/{generation.pk}/"), "generations:read")
    assert_refused(client.get(f"/api/v1/generations/{generation.pk}/video/"), "generations:read")


def test_the_model_catalog_is_public_whatever_the_key(user):
    assert client_with(user, ["billing"]).get("/api/v1/models/").status_code == 200
    assert APIClient().get("/api/v1/models/").status_code == 200


def test_a_session_has_every_scope(user):
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/credits/").status_code == 200
    assert client.post("/api/v1/generations/", T2V, format="json").status_code == 201


def test_a_revoked_scoped_key_is_refused_with_401_not_403(user):
    api_key, raw_key = create_api_key(user, "gone", scopes=READ_ONLY)
    revoke_api_key(api_key)
    response = api_client(key=raw_key).post("/api/v1/generations/", T2V, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_full_key_never_reaches_another_users_generations(user, other_user):
    theirs = make_generation(other_user, status=Status.PROCESSING)
    client = client_with(user, EVERY_SCOPE)
    assert client.get(f"/api/v1/generations/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/generations/{theirs.pk}/cancel/").status_code == 404
    assert client.delete(f"/api/v1/generations/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.PROCESSING and theirs.deleted_at is None


@pytest.mark.parametrize(
    "scopes, field",
    [([], "scopes"), (["generations:admin"], "scopes"), (["billing", "root"], "scopes")],
)
def test_keys_need_known_scopes(user, scopes, field):
    with pytest.raises(ValidationError) as refused:
        create_api_key(user, "k", scopes=scopes)
    assert field in refused.value.message_dict
    assert not ApiKey.objects.exists()


def test_the_settings_form_creates_a_key_with_the_chosen_scopes_and_cap(client, user):
    client.force_login(user)
    page = client.get("/settings/api-keys/").content.decode()
    # The default: everything but buying credits.
    for scope in ("generations:read", "generations:write", "credits:read"):
        assert f'value="{scope}" checked' in page
    assert 'value="billing">' in page
    response = client.post(
        "/settings/api-keys/create/",
        {"name": "Reporting", "scopes": ["credits:read"], "monthly_credit_cap": "250"},
    )
    assert response.status_code == 201
    key = ApiKey.objects.get(user=user)
    assert key.scopes == ["credits:read"] and key.monthly_credit_cap == 250
    listing = client.get("/settings/api-keys/").content.decode()
    assert "<code>credits:read</code>" in listing and "250 credits" in listing


@pytest.mark.parametrize(
    "data",
    [
        {"name": "No scopes"},
        {"name": "Bad scope", "scopes": ["everything"]},
        {"name": "Zero cap", "scopes": ["credits:read"], "monthly_credit_cap": "0"},
        {"name": "Minus cap", "scopes": ["credits:read"], "monthly_credit_cap": "-5"},
        {"name": "Text cap", "scopes": ["credits:read"], "monthly_credit_cap": "lots"},
    ],
)
def test_the_settings_form_refuses_bad_scopes_and_caps(client, user, data):
    client.force_login(user)
    response = client.post("/settings/api-keys/create/", data)
    assert response.status_code == 422
    assert not ApiKey.objects.exists()
    if "scopes" in data and data["scopes"] == ["credits:read"]:
        # The ticks the user made survive the error.
        assert 'value="credits:read" checked' in response.content.decode()


def _api_views(patterns, prefix: str = "") -> list[tuple[str, type, list[str]]]:
    """(route, DRF view class, its methods) for every endpoint under /api/v1/."""
    views = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            views.extend(_api_views(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is None:
                continue
            actions = getattr(pattern.callback, "actions", None)  # a viewset's method -> action
            methods = list(actions) if actions else view_class.http_method_names
            methods = [m for m in methods if m not in ("options", "head")]
            views.append(
                (route, view_class, [m for m in methods if actions or hasattr(view_class, m)])
            )
    return views


def test_every_api_view_behind_scopes_declares_one_for_each_method():
    views = _api_views(get_resolver().url_patterns)
    assert len(views) >= 8
    for route, view_class, methods in views:
        permissions = view_class().get_permissions()
        if not any(isinstance(permission, HasScope) for permission in permissions):
            continue  # open to all, as the model catalog
        assert methods, route
        for method in methods:
            assert required_scope(view_class(), method) in EVERY_SCOPE, (route, method)
