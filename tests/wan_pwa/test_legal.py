"""The terms and the privacy notice: linked from every page, replaceable by the operator, and
true about the cookies the site sets."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-strong-pass-123"


def listed_cookies(page: str) -> set[str]:
    """The cookie names in the privacy notice's table."""
    table = re.search(r'<table class="legal-cookies">.*?</table>', page, re.S)
    assert table is not None
    return set(re.findall(r"<td><code>([^<]+)</code></td>", table.group(0)))


def footer_of(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    footer = re.search(r'<footer class="site-footer">.*?</footer>', page, re.S)
    assert footer is not None, url
    return footer.group(0)


def footer_links(client: Client, url: str) -> None:
    footer = footer_of(client, url)
    for name in ("terms", "privacy", "api:docs"):
        assert f'href="{reverse(name)}"' in footer, (url, name)


def test_the_footer_links_the_status_page_only_when_the_operator_has_one(client, settings):
    assert "Status" not in footer_of(client, reverse("home"))
    settings.STATUS_PAGE_URL = "https://status.wan.example.com/"
    assert '<a href="https://status.wan.example.com/" rel="noopener">Status</a>' in footer_of(
        client, reverse("home")
    )


def test_every_page_links_the_terms_the_privacy_notice_and_the_api_docs(client, user):
    for name in ("home", "account_login", "account_signup", "terms", "privacy"):
        footer_links(client, reverse(name))
    client.force_login(user)
    for name in ("create", "history", "settings", "billing"):
        footer_links(client, reverse(name))


def test_the_sign_up_form_links_both(client):
    page = client.get(reverse("account_signup")).content.decode()
    form_to_end = page[page.index("<form") : page.index('<footer class="site-footer">')]
    assert f'href="{reverse("terms")}"' in form_to_end
    assert f'href="{reverse("privacy")}"' in form_to_end


def test_the_default_privacy_notice_quotes_this_sites_retention(client, settings):
    settings.INPUT_IMAGE_RETENTION_DAYS = 12
    settings.INPUT_AUDIO_RETENTION_DAYS = 5
    settings.VIDEO_RETENTION_DAYS = 0
    settings.DATA_EXPORT_RETENTION_DAYS = 3
    page = client.get(reverse("privacy")).content.decode()
    assert "Input images are deleted 12 days after the generation ends" in page
    assert "audio tracks 5 days after it ends" in page
    assert "videos only when you delete them" in page
    assert "kept privately for 3 days" in page
    assert "(its location, camera details and other metadata) is dropped" in page
    for processor in ("Replicate", "Stripe"):
        assert f"<strong>{processor}</strong>" in page


def test_the_operators_folder_replaces_the_default_text(client, settings, tmp_path):
    (tmp_path / "terms.html").write_text(
        '{% extends "legal/page.html" %}{% block legal_content %}'
        "<h1>Acme terms</h1><p>{{ site_url }}</p>{% endblock %}"
    )
    # Anything else in the folder is never read: it cannot override the site's templates.
    (tmp_path / "base.html").write_text("hijacked")
    settings.LEGAL_TEMPLATES_DIR = str(tmp_path)
    terms = client.get(reverse("terms"))
    assert terms.status_code == 200
    page = terms.content.decode()
    assert "<h1>Acme terms</h1>" in page and f"<p>{settings.SITE_URL}</p>" in page
    assert '<footer class="site-footer">' in page  # still inside the site's layout
    privacy = client.get(reverse("privacy")).content.decode()
    assert "<h1>Privacy notice</h1>" in privacy  # no replacement there: the default
    assert "hijacked" not in client.get(reverse("home")).content.decode()


def test_the_site_sets_exactly_the_cookies_the_privacy_notice_lists():
    """Walks a visit: the public pages, a log-in, the member pages, a saved form (whose message
    is carried to the next page) and a log-out, collecting every Set-Cookie name."""
    make_user("walker", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    seen: set[str] = set()

    def visit(method: str, name: str, data: dict[str, str] | None = None) -> None:
        if method == "get":
            response = client.get(reverse(name))
        else:
            token = client.cookies["csrftoken"].value
            response = client.post(reverse(name), data, headers={"X-CSRFToken": token})
        assert response.status_code in (200, 302), (name, response.status_code)
        seen.update(response.cookies.keys())

    for name in ("home", "account_signup", "terms", "privacy", "account_login"):
        visit("get", name)
    visit("post", "account_login", {"login": "walker", "password": PASSWORD})
    for name in ("create", "history", "settings", "billing"):
        visit("get", name)
    visit("post", "settings-profile", {"email": "walker@example.com", "first_name": "W"})
    visit("get", "settings")
    visit("post", "account_logout", {})
    privacy = Client().get(reverse("privacy")).content.decode()
    assert seen == listed_cookies(privacy)


def test_a_legal_folder_that_does_not_exist_fails_the_checks(settings, tmp_path):
    settings.LEGAL_TEMPLATES_DIR = str(tmp_path / "missing")
    with pytest.raises(SystemCheckError, match="LEGAL_TEMPLATES_DIR"):
        call_command("check")
    settings.LEGAL_TEMPLATES_DIR = str(tmp_path)
    call_command("check")
