"""Suspending an account from the user's admin page: it stops logging in and using the API,
what it has running is canceled and refunded once, nothing new starts; reactivating undoes it."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from py_vapid import Vapid

from credits.selectors import balance_of
from generations.actions.sharing import enable_sharing, feature_generation, set_feature_consent
from generations.failures import FailureReason
from generations.lifecycle.transitions import apply_prediction_update
from generations.models import Generation, Status
from generations.notifications.actions import subscribe_push
from generations.suspension import suspend_user
from tests.factories import api_client, make_generation
from tests.fixtures.local_servers import Answer, StartServer
from tests.generations.lifecycle_helpers import (
    make_due,
    prediction,
    refunds_of,
    run_tasks,
    submit,
    update,
)
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.models import User
from wan_pwa.accounts.suspension import SUSPENDED_MESSAGE, AccountSuspended, SuspensionError

pytestmark = pytest.mark.usefixtures("replicate_settings")

CHANGELIST = reverse("admin:wan_pwa_user_changelist")
PASSWORD = "correct horse battery"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def suspend_in_admin(staff_client: Client, user: User, reason: str = "card fraud") -> str:
    response = staff_client.post(
        CHANGELIST,
        {"action": "suspend", "_selected_action": [user.pk], "apply": "1", "reason": reason},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_suspending_cancels_and_refunds_what_is_running_and_keeps_what_finished(
    staff_client, staff, user, replicate_api, assert_audit_clean
):
    queued = submit(user)
    running = submit(user)
    apply_prediction_update(running.pk, update("p-run", "processing"))
    finished = make_generation(user, status=Status.SUCCEEDED)
    cancel_route = replicate_api.cancel_prediction("p-run").respond(
        200, json=prediction("p-run", "canceled")
    )
    balance_before = balance_of(user)

    page = suspend_in_admin(staff_client, user)
    run_tasks()

    assert "Suspended alice; 2 generation(s) canceled and refunded." in page
    user.refresh_from_db()
    assert not user.is_active
    assert (user.suspended_by, user.suspension_reason) == (staff, "card fraud")
    for generation in (queued, running):
        generation.refresh_from_db()
        assert generation.status == Status.CANCELED
        assert generation.failure_reason == FailureReason.ACCOUNT_SUSPENDED
        assert refunds_of(generation) == 1
    assert cancel_route.call_count == 1  # the running one is stopped; the queued one never left
    assert Generation.objects.get(pk=finished.pk).status == Status.SUCCEEDED
    assert balance_of(user) == balance_before + queued.cost + running.cost
    assert_audit_clean()


def test_the_suspend_action_asks_for_a_reason_first(staff_client, user):
    form = staff_client.post(CHANGELIST, {"action": "suspend", "_selected_action": [user.pk]})
    assert "Suspend accounts" in form.content.decode()
    assert "can no longer log in" in form.content.decode()

    blank = staff_client.post(
        CHANGELIST,
        {"action": "suspend", "_selected_action": [user.pk], "apply": "1", "reason": ""},
    )
    assert "This field is required." in blank.content.decode()
    user.refresh_from_db()
    assert user.is_active


def test_a_suspended_user_is_logged_out_cannot_log_in_or_use_the_api(
    staff_client, make_user, client
):
    alice = make_user("alice2", password=PASSWORD)
    key = create_api_key(alice, "script")[1]
    session = Client()
    session.force_login(alice)
    assert session.get(reverse("history")).status_code == 200

    suspend_in_admin(staff_client, alice)

    assert session.get(reverse("history")).status_code == 302  # the session no longer resolves
    login = Client().post(
        reverse("account_login"), {"login": "alice2", "password": PASSWORD}, follow=True
    )
    assert SUSPENDED_MESSAGE in login.content.decode()
    wrong = Client().post(reverse("account_login"), {"login": "alice2", "password": "not it"})
    assert SUSPENDED_MESSAGE not in wrong.content.decode()  # only the password reveals it
    response = api_client(key=key).get("/api/v1/credits/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == SUSPENDED_MESSAGE


def test_a_submission_that_authenticated_before_the_suspension_is_refused(staff, user):
    stale = User.objects.get(pk=user.pk)  # what the request authenticated as, still active
    balance = balance_of(user)
    suspend_user(user, by=staff, reason="abuse")

    with pytest.raises(AccountSuspended):
        submit(stale)
    assert not Generation.objects.filter(user=user).exists()
    assert balance_of(user) == balance


def test_reactivating_restores_log_in_and_the_api(staff_client, staff, make_user):
    bob = make_user("bob", password=PASSWORD)
    key = create_api_key(bob, "script")[1]
    suspend_user(bob, by=staff, reason="checking")

    response = staff_client.post(
        CHANGELIST, {"action": "reactivate", "_selected_action": [bob.pk]}, follow=True
    )

    assert "Reactivated 1 of 1 user(s)." in response.content.decode()
    bob.refresh_from_db()
    assert bob.is_active and not bob.is_suspended and bob.suspension_reason == ""
    login = Client().post(reverse("account_login"), {"login": "bob", "password": PASSWORD})
    assert login.status_code == 302
    assert api_client(key=key).get("/api/v1/credits/").status_code == 200


def test_suspending_again_only_sweeps_and_keeps_the_first_reason(staff, user):
    suspend_user(user, by=staff, reason="first")
    outcome = suspend_user(user, by=staff, reason="second")
    user.refresh_from_db()
    assert (outcome.newly_suspended, outcome.canceled) == (False, 0)
    assert user.suspension_reason == "first"


def test_staff_cannot_suspend_themselves(staff_client, staff):
    page = suspend_in_admin(staff_client, staff)
    assert "You cannot suspend your own account." in page
    staff.refresh_from_db()
    assert staff.is_active
    with pytest.raises(SuspensionError):
        suspend_user(staff, by=staff, reason="oops")


def test_is_active_is_not_a_checkbox_on_an_existing_users_page(staff_client, staff, user):
    url = reverse("admin:wan_pwa_user_change", args=[user.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="is_active"' not in page


def test_the_users_page_shows_their_generations_ledger_keys_and_status(staff_client, staff, user):
    make_generation(user, status=Status.SUCCEEDED, prompt="a heron landing on a pier")
    create_api_key(user, "nightly batch")
    suspend_user(user, by=staff, reason="chargebacks")

    page = staff_client.get(reverse("admin:wan_pwa_user_change", args=[user.pk])).content.decode()

    assert "a heron landing on a pier" in page
    assert "All 1 generations" in page
    assert "nightly batch" in page
    assert "Welcome bonus" in page  # the ledger
    assert "Suspended" in page and "chargebacks" in page


def test_the_users_page_costs_the_same_queries_however_busy_the_user(staff_client, user):
    url = reverse("admin:wan_pwa_user_change", args=[user.pk])
    make_generation(user)
    create_api_key(user, "one")
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    for index in range(15):
        make_generation(user, charged=False)
        create_api_key(user, f"key {index}")
    with CaptureQueriesContext(connection) as many:
        page = staff_client.get(url)
    assert "All 16 generations" in page.content.decode()
    assert len(many) == len(few)


def reactivate_in_admin(staff_client: Client, user: User) -> None:
    response = staff_client.post(
        CHANGELIST, {"action": "reactivate", "_selected_action": [user.pk]}, follow=True
    )
    assert response.status_code == 200


def test_a_suspended_users_share_links_and_featured_videos_are_gone_until_reactivation(
    staff_client: Client, user: User
):
    visitor = Client()  # signed out (staff_client is the test client, signed in)
    prompt = "A paper boat drifting down a rainy street"
    shared = enable_sharing(make_generation(user, prompt=prompt))
    feature_generation(set_feature_consent(shared, True))
    page = reverse("shared", args=[shared.share_token])
    video = reverse("shared-file", args=[shared.share_token, "video"])
    assert visitor.get(page).status_code == 200
    assert prompt in visitor.get(reverse("home")).content.decode()

    suspend_in_admin(staff_client, user)
    assert visitor.get(page).status_code == 404
    assert visitor.get(video).status_code == 404
    assert prompt not in visitor.get(reverse("home")).content.decode()

    reactivate_in_admin(staff_client, user)
    assert visitor.get(page).status_code == 200
    assert visitor.get(video).status_code == 200
    assert prompt in visitor.get(reverse("home")).content.decode()


def test_a_suspended_user_is_sent_no_notifications(
    settings, staff, user: User, start_server: StartServer
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    vapid = Vapid()
    vapid.generate_keys()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid.private_pem().decode()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = "set"
    push_service = start_server(Answer(201), host="localhost")
    device_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    subscribe_push(
        user,
        endpoint=f"{push_service.url}/push/device-1",
        p256dh=b64url(device_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)),
        auth=b64url(os.urandom(16)),
    )
    user.notify_by_email = True
    user.save(update_fields=["notify_by_email"])
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-1", "failed", error="CUDA out of memory"))

    suspend_user(user, by=staff, reason="abuse")
    make_due("send_notifications")
    run_tasks()

    assert mail.outbox == []
    assert push_service.received == []
