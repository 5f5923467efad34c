"""Landing, settings, the PWA files, and what every page promises: CSP, no inline script."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from urllib.robotparser import RobotFileParser

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from credits.actions import add_credits
from generations import catalog
from generations.actions.deletion import delete_generation
from generations.actions.sharing import enable_sharing
from generations.models import Status
from tests.factories import make_generation
from tests.pages import HX, found

pytestmark = pytest.mark.django_db

PASSWORD = "a-strong-pass-123"


def test_landing_for_visitors_and_create_for_members(client, user):
    page = client.get(reverse("home")).content.decode()
    assert "Turn a prompt into a video" in page
    assert reverse("account_signup") in page and reverse("account_login") in page
    assert client.head(reverse("home")).status_code == 200  # uptime checks use HEAD
    client.force_login(user)
    assert client.get(reverse("home"))["Location"] == reverse("create")


def test_the_sign_up_bonus_quoted_everywhere_is_the_setting(client, user, settings):
    settings.SIGNUP_BONUS_CREDITS = 250
    shared = make_generation(user, share_token="a-share-token-for-the-bonus-test")
    pages = {
        name: client.get(url).content.decode()
        for name, url in {
            "home": reverse("home"),
            "login": reverse("account_login"),
            "signup": reverse("account_signup"),
            "shared": reverse("shared", args=[shared.share_token]),
        }.items()
    }
    for name, page in pages.items():
        assert "250 free credits" in page, name
        assert "100 free" not in page, name
        assert "verify your e-mail address" in page, name  # credits come after verification
    assert f"enough for up to {250 // catalog.CHEAPEST_COST} videos" in pages["signup"]


def test_the_landing_page_quotes_the_catalog(client, monkeypatch):
    page = client.get(reverse("home")).content.decode()
    assert "10 to 500 characters" in page
    assert (
        "A five-second 480p clip costs 5 or 10, 720p costs 10 or 20, 1080p costs 32 credits."
        in page
    )
    assert (
        '<th scope="row">Wan 2.5 text-to-video</th><td>480p: 10 · 720p: 20 · 1080p: 32</td>' in page
    )
    small = catalog.MODELS["t2v-1.3B"]
    cheaper = replace(small, variants=(replace(small.variants[0], credits=3),))
    monkeypatch.setitem(catalog.MODELS, "t2v-1.3B", cheaper)
    page = client.get(reverse("home")).content.decode()
    assert "A five-second 480p clip costs 3 or 5 or 10, 720p costs 10 or 20, 1080p" in page


def test_pages_and_the_manifest_describe_the_models_the_catalog_offers(logged_in):
    visitor = Client()
    summary = (
        "Wan 2.1, 2.2, 2.5 and 2.7 turn a prompt, or an image and a prompt, into a video of up "
        "to 15 seconds at up to 1080p."
    )
    assert catalog.summary() == summary
    assert json.loads(visitor.get(reverse("manifest")).content)["description"] == summary
    landing = visitor.get(reverse("home")).content.decode()
    assert summary in landing
    assert "Wan 2.2, 2.5 and 2.7 charge in proportion to the clip's length" in landing
    assert summary in logged_in.get(reverse("create")).content.decode()


def test_the_description_follows_the_catalog(monkeypatch):
    older = {key: model for key, model in catalog.MODELS.items() if "2.1" in model.label}
    monkeypatch.setattr(catalog, "MODELS", older)
    assert catalog.summary() == (
        "Wan 2.1 turns a prompt, or an image and a prompt, into a video of up to 5 seconds at "
        "up to 720p."
    )
    assert catalog.versions(m for m in older.values() if "14B" in m.label) == "Wan 2.1"


def test_settings_has_every_section(logged_in, user):
    page = logged_in.get(reverse("settings")).content.decode()
    for anchor in (
        'id="profile"',
        'id="security"',
        'id="credits"',
        'id="sessions"',
        'id="api-keys"',
    ):
        assert anchor in page
    assert 'data-testid="settings-balance">100<' in page
    assert "Welcome bonus" in page
    assert '<span class="positive">verified</span>' in page
    assert reverse("account_email") in page and reverse("mfa_index") in page


def test_profile_update_saves_the_name_and_leaves_the_email_to_its_own_page(logged_in, user):
    response = logged_in.post(
        reverse("settings-profile"),
        {"first_name": "Alice", "last_name": "Liddell", "email": "alice@wonder.example"},
        follow=True,
    )
    assert "Profile saved." in response.content.decode()
    user.refresh_from_db()
    assert (user.first_name, user.email) == ("Alice", "alice@example.com")


def test_log_out_everywhere_ends_every_session(user):
    here, elsewhere = Client(), Client()
    assert here.login(username="alice", password=PASSWORD)
    assert elsewhere.login(username="alice", password=PASSWORD)
    assert elsewhere.get(reverse("settings")).status_code == 200

    response = here.post(reverse("settings-logout-everywhere"), {"password": PASSWORD}, follow=True)
    assert "logged out of every session" in response.content.decode()
    assert here.get(reverse("settings")).status_code == 302
    assert elsewhere.get(reverse("settings")).status_code == 302
    assert Client().login(username="alice", password=PASSWORD)  # the password still works


def test_log_out_everywhere_needs_the_password(logged_in, user):
    response = logged_in.post(reverse("settings-logout-everywhere"), {"password": "nope"})
    assert response.status_code == 422
    assert "That is not your current password." in response.content.decode()
    assert logged_in.get(reverse("settings")).status_code == 200


def test_the_ledger_is_paginated_and_its_pages_swap_alone(logged_in, user):
    for amount in range(1, 26):
        add_credits(user, amount, type="bonus", description=f"grant {amount}")
    page = logged_in.get(reverse("settings")).content.decode()
    assert "grant 25" in page and "grant 5" not in page
    assert "Page 1 of 2" in page
    second = logged_in.get(reverse("settings") + "?page=2", HTTP_HX_TARGET="ledger", **HX)
    body = second.content.decode()
    assert body.lstrip().startswith('<div id="ledger"')
    assert "grant 5" in body and "Welcome bonus" in body


def test_the_settings_page_varies_on_the_headers_that_pick_the_ledger_alone(logged_in):
    vary = logged_in.get(reverse("settings"))["Vary"]
    assert "HX-Request" in vary and "HX-Target" in vary


def test_the_ledger_links_generations(logged_in, user):
    generation = make_generation(user, status=Status.FAILED)
    page = logged_in.get(reverse("settings")).content.decode()
    assert reverse("detail", args=[generation.pk]) in page
    assert "+10" in page and "-10" in page


def test_ledger_lines_of_deleted_videos_are_plain_text(logged_in, user):
    generation = make_generation(user, status=Status.FAILED)
    delete_generation(generation)
    page = logged_in.get(reverse("settings")).content.decode()
    assert f"#{generation.pk} (deleted)" in page
    assert reverse("detail", args=[generation.pk]) not in page


def test_manifest_makes_the_app_installable(client):
    response = client.get(reverse("manifest"))
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] and manifest["short_name"] == "Wan PWA"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    assert manifest["theme_color"] and manifest["background_color"]
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_favicon_ico_is_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as icon:
        assert icon.format == "ICO"
        assert (32, 32) in icon.info["sizes"]


def test_robots_txt_keeps_crawlers_off_share_links_and_private_pages(client, user):
    generation = make_generation(user)
    enable_sharing(generation)
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    robots = RobotFileParser()
    robots.parse(response.content.decode().splitlines())
    private = [
        reverse("shared", args=[generation.share_token]),
        reverse("shared-file", args=[generation.share_token, "video"]),
        reverse("create"),
        reverse("history"),
        reverse("detail", args=[generation.pk]),
        reverse("settings"),
        reverse("billing"),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("admin:index"),
        reverse("api:generation-list"),
    ]
    for path in private:
        assert not robots.can_fetch("AnyBot", f"http://testserver{path}"), path
    assert robots.can_fetch("AnyBot", "http://testserver/")
    assert client.post("/robots.txt").status_code == 405


def test_service_worker_caches_the_shell_and_the_offline_page(client):
    response = client.get("/sw.js")
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert f'const OFFLINE_URL = "{reverse("offline")}"' in body
    assert "/static/css/app." in body
    offline = client.get(reverse("offline"))
    assert offline.status_code == 200
    assert "You are offline" in offline.content.decode()


def test_pages_carry_a_strict_content_security_policy(client, user):
    response = client.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy  # no CDN


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")


def test_no_page_has_inline_script_or_style(client, user):
    done = make_generation(user)
    anonymous = [
        reverse("home"),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("offline"),
    ]
    members = [
        reverse("create"),
        reverse("history"),
        reverse("detail", args=[done.pk]),
        reverse("settings"),
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("mfa_activate_totp"),
        reverse("mfa_add_webauthn"),
    ]
    for url in anonymous:
        page = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(page), url
        assert " style=" not in page and "<style" not in page, url
    client.force_login(user)
    for url in members:
        page = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(page), url
        assert " style=" not in page and "<style" not in page, url
        assert not re.search(r"<[^>]+\son[a-z]+=", page), url  # no inline event handlers


def test_htmx_answers_update_the_header_balance(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    body = logged_in.post(reverse("cancel", args=[running.pk]), **HX).content.decode()
    assert re.search(r'<a id="credit-balance"[^>]*hx-swap-oob="true"', body)
    assert "100 credits" in body


def test_unknown_pages_are_a_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_htmx_posts_need_the_csrf_header_the_body_carries(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    generation = make_generation(user)
    page = client.get(reverse("history")).content.decode()
    token = found(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)[1]
    url = reverse("star", args=[generation.pk])
    assert client.post(url, {"starred": "1"}, **HX).status_code == 403
    assert client.post(url, {"starred": "1"}, HTTP_X_CSRFTOKEN=token, **HX).status_code == 200
    generation.refresh_from_db()
    assert generation.starred
