"""API keys: created and revoked on the Settings page, stored only as a hash, sent as Bearer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.payloads import EVERY_SCOPE
from tests.factories import api_client
from wan_pwa.accounts.api_keys import (
    MAX_ACTIVE_KEYS_PER_USER,
    create_api_key,
    hash_key,
    revoke_api_key,
)
from wan_pwa.accounts.models import ApiKey

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"wan_[A-Za-z0-9_-]{43}")
BALANCE = "/api/v1/credits/"


def new_key_in(html: str) -> str:
    keys = KEY_PATTERN.findall(html)
    assert len(keys) == 1, keys
    return keys[0]


def test_creating_a_key_shows_it_once_and_stores_only_its_hash(client, user):
    client.force_login(user)
    response = client.post(reverse("api_keys:create"), {"name": "Backend", "scopes": EVERY_SCOPE})
    assert response.status_code == 201
    raw_key = new_key_in(response.content.decode())
    stored = ApiKey.objects.get(user=user)
    assert stored.name == "Backend"
    assert stored.key_hash == hash_key(raw_key)
    assert raw_key.startswith(stored.prefix) and len(stored.prefix) == 12
    # Nowhere in the row, nor anywhere in the table, is the plaintext key.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")  # noqa: S608
        assert raw_key not in repr(cursor.fetchall())
    # Shown once: the page afterwards lists the key by its prefix only.
    listing = client.get(reverse("api_keys:list")).content.decode()
    assert raw_key not in listing
    assert stored.prefix in listing and "Backend" in listing
    assert response["Cache-Control"].startswith("max-age=0")


def test_htmx_create_answers_the_section_alone(client, user):
    client.force_login(user)
    response = client.post(
        reverse("api_keys:create"), {"name": "CLI", "scopes": EVERY_SCOPE}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 201
    assert html.lstrip().startswith('<section class="panel" id="api-keys"')
    assert "<html" not in html
    assert 'hx-post="/settings/api-keys/create/"' in html
    new_key_in(html)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_reasonable_name(client, user, name):
    client.force_login(user)
    response = client.post(reverse("api_keys:create"), {"name": name, "scopes": EVERY_SCOPE})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiKey.objects.exists()


def test_htmx_form_errors_answer_422_with_the_section_to_swap_in(client, user):
    client.force_login(user)
    response = client.post(reverse("api_keys:create"), {"name": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422  # like the create page; base.html has htmx swap 422s
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="api-keys"')
    assert 'class="field-error"' in html


def test_the_key_list_varies_on_hx_request(client, user):
    client.force_login(user)
    response = client.get(reverse("api_keys:list"))
    assert "HX-Request" in response["Vary"]


def test_a_user_has_at_most_a_fixed_number_of_active_keys(client, user):
    for number in range(MAX_ACTIVE_KEYS_PER_USER):
        create_api_key(user, f"key {number}")
    client.force_login(user)
    response = client.post(
        reverse("api_keys:create"), {"name": "one too many", "scopes": EVERY_SCOPE}
    )
    assert response.status_code == 422
    assert "revoke one" in response.content.decode()
    assert ApiKey.objects.filter(user=user).count() == MAX_ACTIVE_KEYS_PER_USER


def test_key_pages_need_a_login(client, user):
    api_key, _ = create_api_key(user, "k")
    assert client.get(reverse("api_keys:list")).status_code == 302
    assert client.post(reverse("api_keys:create"), {"name": "x"}).status_code == 302
    assert client.post(reverse("api_keys:revoke", args=[api_key.pk])).status_code == 302
    assert ApiKey.objects.active().count() == 1


def test_key_forms_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("api_keys:create"), {"name": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_a_revoked_key_is_refused(client, user):
    api_key, raw_key = create_api_key(user, "Old laptop")
    assert api_client(key=raw_key).get(BALANCE).status_code == 200
    client.force_login(user)
    response = client.post(reverse("api_keys:revoke", args=[api_key.pk]))
    assert response.status_code == 302
    response = api_client(key=raw_key).get(BALANCE)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert "Old laptop" not in client.get(reverse("api_keys:list")).content.decode()


def test_htmx_revoke_answers_the_section_without_the_key(client, user):
    api_key, _ = create_api_key(user, "gone-soon")
    client.force_login(user)
    response = client.post(reverse("api_keys:revoke", args=[api_key.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "gone-soon" not in response.content.decode()
    assert 'data-testid="api-key-empty"' in response.content.decode()


def test_another_users_key_cannot_be_revoked(client, user, other_user):
    api_key, raw_key = create_api_key(other_user, "theirs")
    client.force_login(user)
    assert client.post(reverse("api_keys:revoke", args=[api_key.pk])).status_code == 404
    assert api_client(key=raw_key).get(BALANCE).status_code == 200


def test_revoking_twice_keeps_the_first_time(user):
    api_key, _ = create_api_key(user, "k")
    first = revoke_api_key(api_key).revoked_at
    assert revoke_api_key(api_key).revoked_at == first


def test_the_section_renders_in_any_page_from_the_request_alone(user):
    create_api_key(user, "Listed")
    request = RequestFactory().get("/settings/")
    request.user = user
    template = engines["django"].from_string('{% include "wan_pwa/api_keys_section.html" %}')
    html = template.render({}, request)
    assert "Listed" in html and 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer wan_not-a-real-key",
        "Bearer not-even-our-format",
        "bearer wan_" + "x" * 43,
    ],
)
def test_bad_bearer_headers_are_refused_with_401(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(BALANCE)
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "request_id", "doc_url"}


def test_no_credentials_answer_401_with_the_bearer_challenge():
    response = APIClient().get(BALANCE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_disabled_account_cannot_use_its_keys(user, api_key):
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_client(key=api_key).get(BALANCE).status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(user):
    api_key, raw_key = create_api_key(user, "k")
    client = api_client(key=raw_key)
    client.get(BALANCE)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None
    with CaptureQueriesContext(connection) as queries:
        client.get(BALANCE)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=2))
    client.get(BALANCE)
    api_key.refresh_from_db()
    assert api_key.last_used_at > timezone.now() - timedelta(seconds=5)


def test_the_browser_session_works_with_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(BALANCE).status_code == 200
    response = client.post("/api/v1/generations/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
