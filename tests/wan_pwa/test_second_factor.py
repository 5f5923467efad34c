"""Two factors: staff cannot use the admin or the dashboard without one, and logging in with
one takes the code as well as the password."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_staff
from tests.pages import found

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/admin/", "/admin/dashboard/", "/admin/wan_pwa/user/"]


def totp_code(secret: str, at: float) -> str:
    return format_hotp_value(hotp_value(secret, int(at) // 30))


def log_in(client: Client, login: str) -> str:
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    return response["Location"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, make_user, url):
    client.force_login(make_user("newstaff", is_staff=True, is_superuser=True))
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert "Staff pages need a second factor" in response.content.decode()


def test_members_keep_using_the_site_without_a_second_factor(logged_in):
    assert logged_in.get(reverse("create")).status_code == 200
    assert logged_in.get("/admin/", follow=True).status_code == 403  # the admin stays closed


def test_staff_set_up_an_authenticator_app_then_reach_the_admin(client, make_user):
    make_user("newstaff", is_staff=True, is_superuser=True)
    log_in(client, "newstaff")
    asked = client.get(reverse("mfa_activate_totp"))  # adding a factor asks for the password
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    page = client.post(asked["Location"], {"password": PASSWORD}, follow=True).content.decode()
    secret = found(r"\b([A-Z2-7]{32})\b", page).group(1)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret, time.time())})
    assert response.status_code == 302
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/dashboard/").status_code == 200


def test_logging_in_with_a_second_factor_needs_the_code_too(client):
    staff, totp = make_staff()
    next_step = log_in(client, "root")
    assert next_step == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session  # the password alone logs nobody in
    # The admin sends the half-logged-in session back to the code it still owes.
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == next_step
    wrong = client.post(next_step, {"code": "000000"})
    assert SESSION_KEY not in client.session and wrong.status_code == 200
    client.post(next_step, {"code": totp_code(totp.instance.data["secret"], time.time())})
    assert int(client.session[SESSION_KEY]) == staff.pk
    assert client.get("/admin/").status_code == 200


def test_the_two_factor_pages_are_in_the_apps_layout(client, make_user):
    make_user("member")
    log_in(client, "member")
    page = client.get(reverse("mfa_index")).content.decode()
    assert 'class="site-header"' in page
    assert re.search(r"Authenticator App|Security Keys|Passkeys", page)
