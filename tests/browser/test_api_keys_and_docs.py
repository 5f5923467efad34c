"""The API's browser-facing parts in Chromium, under the site's Content-Security-Policy: the API
keys section of the Settings page, and the interactive docs."""

from __future__ import annotations

import re

import httpx
import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.chromium import log_in
from wan_pwa.accounts.models import ApiKey

pytestmark = pytest.mark.browser


def test_create_use_and_revoke_a_key_on_the_settings_page(page: Page, app: str, make_user):
    user = make_user("nora")
    log_in(page, "nora")
    page.goto("/settings/#api-keys")
    section = page.locator("#api-keys")
    section.get_by_label("Key name").fill("Build server")
    section.get_by_role("button", name="Create key").click()
    shown = page.locator("#api-key-new-value")  # the section swapped in by htmx
    expect(shown).to_be_visible()
    raw_key = shown.input_value()
    assert raw_key.startswith(ApiKey.objects.get(user=user).prefix)
    expect(page.get_by_role("cell", name="Build server", exact=True)).to_be_visible()

    balance = httpx.get(f"{app}/api/v1/credits/", headers={"Authorization": f"Bearer {raw_key}"})
    assert balance.json()["balance"] == 100

    page.reload()  # shown once: gone after a reload
    expect(page.locator("#api-key-new-value")).to_have_count(0)
    page.locator("#api-keys").get_by_role("button", name="Revoke Build server").click()
    expect(page.locator("[data-testid=api-key-empty]")).to_be_visible()
    refused = httpx.get(f"{app}/api/v1/credits/", headers={"Authorization": f"Bearer {raw_key}"})
    assert refused.status_code == 401


def test_a_read_only_key_made_on_the_settings_page_cannot_submit(page: Page, app: str, make_user):
    make_user("olga")
    log_in(page, "olga")
    page.goto("/settings/#api-keys")
    section = page.locator("#api-keys")
    section.get_by_label("Key name").fill("Dashboard")
    section.get_by_role("checkbox", name="generations:write").uncheck()
    expect(section.get_by_role("checkbox", name="billing")).not_to_be_checked()  # the default
    section.get_by_label("Monthly credit cap").fill("40")
    section.get_by_role("button", name="Create key").click()
    raw_key = page.locator("#api-key-new-value").input_value()
    row = section.get_by_role("row", name=re.compile("Dashboard"))
    expect(row).to_contain_text("generations:read, credits:read")
    expect(row).to_contain_text("40 credits")

    refused = httpx.post(
        f"{app}/api/v1/generations/",
        json={"model_key": "t2v-1.3B", "resolution": "480p", "prompt": "A fox in the snow"},
        headers={"Authorization": f"Bearer {raw_key}"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["required_scope"] == "generations:write"
    page.goto(refused.json()["error"]["doc_url"].removeprefix(settings.SITE_URL.rstrip("/")))
    expect(page.locator("tr#insufficient_scope")).to_contain_text("403")


def test_the_docs_run_under_the_content_security_policy(page: Page, app: str):
    schema = httpx.get(f"{app}/api/schema/", params={"format": "json"}).json()
    methods = {"get", "put", "post", "delete", "patch"}
    operations = sum(len(methods & set(path)) for path in schema["paths"].values())
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert operations >= 12  # the schema's own test lists them
    assert page.locator(".opblock").count() == operations  # every one rendered
    expect(page.get_by_text("Wan PWA API").first).to_be_visible()
    # An operation opened shows its scope and its curl, Python and TypeScript samples.
    page.locator(".opblock-summary-path", has_text="/api/v1/credits/ledger/").click()
    expect(page.get_by_text("credits:read").first).to_be_visible()
    expect(page.get_by_text("for entry in client.credits.ledger():")).to_be_visible()
    expect(page.get_by_text("client.credits.ledger()) {")).to_be_visible()
