"""Deleting an account, from Settings (after allauth's reauthentication: the password or a
second factor) or the user admin: what runs is
canceled and refunded once, the files leave the storage, keys, sessions and devices end, and
the personal data is erased, while the ledger and orders stay, anonymised, for the books."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credits.models import CreditTransaction, Order
from credits.selectors import balance_of
from generations.lifecycle.output import store_output
from generations.lifecycle.transitions import apply_prediction_update
from generations.models import Generation, Status
from generations.notifications.actions import subscribe_push
from generations.notifications.models import GenerationNotice, PushSubscription
from tests.credits.stripe_support import buy
from tests.factories import api_client, audio_bytes, make_generation, make_staff, make_user
from tests.generations.lifecycle_helpers import prediction, refunds_of, run_tasks, submit, update
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.deletion import delete_account
from wan_pwa.accounts.models import DataExport, User
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("replicate_settings")]

PASSWORD = "correct horse battery"
DELETE = reverse("delete-account")
CHANGELIST = reverse("admin:wan_pwa_user_changelist")


def logged_in_as(user: User) -> Client:
    client = Client()
    assert client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})[
        "Location"
    ]
    assert client.get(reverse("settings")).status_code == 200
    return client


def press_delete(client: Client) -> str:
    """Presses "Delete my account"; returns where it asks to confirm who you are."""
    response = client.post(DELETE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    return response["Location"]


def amounts_of(user: User) -> list[int]:
    """The user's ledger, oldest first."""
    ledger = CreditTransaction.objects.filter(user=user).order_by("pk")
    return list(ledger.values_list("amount", flat=True))


def can_log_in(username: str) -> bool:
    response = Client().post(reverse("account_login"), {"login": username, "password": PASSWORD})
    return response.status_code == 302


@pytest.fixture
def account(object_storage, stripe_sim, replicate_api, settings):
    """Alice with everything an account gathers: a running generation, a finished one with all
    its files, a paid order, an API key, a push device, a data export, and two sessions."""
    alice = make_user("alice", password=PASSWORD)
    running = submit(alice)
    apply_prediction_update(running.pk, update("p-run", "processing"))
    finished = make_generation(  # shared, and featured on the home page with her consent
        alice,
        model_key="i2v-2.5",
        audio=audio_bytes(),
        options={},
        share_token="alice-share-token",
        feature_consent=True,
        featured_at=timezone.now(),
    )
    WebhookEvent.objects.create(
        webhook_id="msg-1", generation=finished, payload=prediction("p-done", "succeeded")
    )
    order = buy(stripe_sim, alice)
    key = create_api_key(alice, "laptop")[1]
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]  # the device's push service
    subscribe_push(alice, endpoint="http://localhost/push/alice", p256dh="k" * 20, auth="a" * 10)
    laptop, phone = logged_in_as(alice), logged_in_as(alice)
    assert phone.post(reverse("data-export")).status_code == 302
    run_tasks()
    cancel = replicate_api.cancel_prediction("p-run").respond(
        200, json=prediction("p-run", "canceled")
    )
    return {
        "user": alice,
        "running": running,
        "finished": finished,
        "order": order,
        "key": key,
        "laptop": laptop,
        "phone": phone,
        "cancel": cancel,
        "bucket": object_storage,
    }


def test_deleting_from_settings_erases_the_account_and_keeps_the_books(
    account, other_user, django_capture_on_commit_callbacks, assert_audit_clean
):
    alice, bucket = account["user"], account["bucket"]
    others = make_generation(other_user)
    others_files = {others.video.name, others.poster.name}
    alice_files = bucket.keys() - others_files
    assert len(alice_files) == 5  # image, audio, video, poster, export
    ledger_before = amounts_of(alice)

    page = account["laptop"].get(DELETE).content.decode()
    assert "This cannot be undone" in page
    confirm = press_delete(account["laptop"])
    assert User.objects.get(pk=alice.pk).is_active  # nothing happens before the password
    with django_capture_on_commit_callbacks(execute=True):
        response = account["laptop"].post(confirm, {"password": PASSWORD}, follow=True)
    run_tasks()

    assert "Your account was deleted" in response.content.decode()
    assert response.wsgi_request.path == reverse("home")
    assert bucket.keys() == others_files  # none of hers is left, the other user's stay
    # What ran was canceled at Replicate and refunded exactly once.
    running = Generation.objects.get(pk=account["running"].pk)
    assert running.status == Status.CANCELED and refunds_of(running) == 1
    assert account["cancel"].call_count == 1
    # The books: every ledger row and the paid order, on the anonymised user.
    ledger_after = amounts_of(alice)
    assert ledger_after[: len(ledger_before)] == ledger_before
    assert len(ledger_after) == len(ledger_before) + 1  # the refund
    order = Order.objects.get(pk=account["order"].pk)
    assert (order.user_id, order.status, order.amount) == (alice.pk, "paid", 500)
    assert balance_of(alice) == sum(ledger_after)
    assert_audit_clean()
    # The person is gone.
    alice.refresh_from_db()
    assert (alice.username, alice.email, alice.first_name, alice.last_name) == (
        f"deleted-{alice.pk}",
        "",
        "",
        "",
    )
    assert not alice.is_active and not alice.has_usable_password() and alice.is_deleted
    assert set(Generation.objects.filter(user=alice).values_list("prompt", flat=True)) == {""}
    finished = Generation.objects.get(pk=account["finished"].pk)
    assert (finished.share_token, finished.featured_at, finished.feature_consent) == (
        None,
        None,
        False,
    )
    assert Client().get(reverse("shared", args=["alice-share-token"])).status_code == 404
    assert WebhookEvent.objects.get(webhook_id="msg-1").payload == {
        "erased": "the account was deleted"
    }
    assert not PushSubscription.objects.filter(user=alice).exists()
    assert not GenerationNotice.objects.filter(user=alice).exists()
    assert not DataExport.objects.filter(user=alice).exists()
    # Nothing of hers opens the door any more.
    assert account["phone"].get(reverse("settings")).status_code == 302
    assert not any(
        session.get_decoded().get("_auth_user_id") == str(alice.pk)
        for session in Session.objects.all()
    )
    assert api_client(key=account["key"]).get("/api/v1/credits/").status_code == 401
    assert not can_log_in("alice") and not can_log_in(f"deleted-{alice.pk}")


def test_a_wrong_password_changes_nothing(account, django_capture_on_commit_callbacks):
    alice, bucket = account["user"], account["bucket"]
    stored = bucket.keys()
    confirm = press_delete(account["laptop"])
    with django_capture_on_commit_callbacks(execute=True):
        response = account["laptop"].post(confirm, {"password": "not my password"})
        assert account["laptop"].post(confirm, {"password": ""}).status_code == 200
    assert response.status_code == 200
    assert "Incorrect password." in response.content.decode()
    assert bucket.keys() == stored
    alice.refresh_from_db()
    assert alice.is_active and alice.username == "alice" and not alice.is_deleted
    assert Generation.objects.get(pk=account["running"].pk).status == Status.PROCESSING
    assert account["phone"].get(reverse("settings")).status_code == 200
    assert api_client(key=account["key"]).get("/api/v1/credits/").status_code == 200
    assert PushSubscription.objects.filter(user=alice).exists()
    assert can_log_in("alice")


def test_a_second_factor_confirms_the_deletion_too(user, django_capture_on_commit_callbacks):
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = Client()
    client.force_login(user)
    press_delete(client)
    wrong = client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and User.objects.get(pk=user.pk).is_active
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"{reverse('mfa_reauthenticate')}?next={DELETE}", {"code": code}, follow=True
        )
    assert "Your account was deleted" in done.content.decode()
    user.refresh_from_db()
    assert user.is_deleted and not Authenticator.objects.filter(user=user).exists()


def test_deleting_twice_finishes_once(account, assert_audit_clean):
    alice = account["user"]
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    alice.user_permissions.add(Permission.objects.get(codename="erase_user"))
    first = delete_account(alice)
    second = delete_account(alice)
    assert (first.newly_deleted, first.canceled) == (True, 1)
    assert (second.newly_deleted, second.canceled, second.sessions_ended) == (False, 0, 0)
    assert first.sessions_ended == 2
    assert refunds_of(account["running"]) == 1
    assert_audit_clean()
    alice = User.objects.get(pk=alice.pk)
    assert not alice.is_staff and not alice.is_superuser
    assert not alice.user_permissions.exists()


def test_a_video_saved_after_the_deletion_is_discarded(
    user, replicate_api, django_capture_on_commit_callbacks, assert_audit_clean
):
    """A generation whose finished video is being copied cannot be canceled: it is erased
    anyway, and the copy that lands afterwards is removed instead of kept."""
    saving = submit(user)
    apply_prediction_update(saving.pk, update("p-save", "succeeded", output="https://x/v.mp4"))
    storage = Generation.video.field.storage
    video = storage.save("videos/late.mp4", ContentFile(b"late bytes"))
    poster = storage.save("posters/late.jpg", ContentFile(b"late bytes"))

    with django_capture_on_commit_callbacks(execute=True):
        assert delete_account(user).canceled == 0
        assert store_output(saving.pk, video_name=video, poster_name=poster)

    saving.refresh_from_db()
    assert saving.status == Status.SUCCEEDED and saving.deleted_at is not None
    assert (saving.video.name, saving.poster.name) == ("", "")
    assert not storage.exists(video) and not storage.exists(poster)
    assert not GenerationNotice.objects.filter(generation=saving).exists()
    assert_audit_clean()


def test_sessions_cached_in_redis_end_too(settings, redis_url, user):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    user.set_password(PASSWORD)
    user.save()
    browser = logged_in_as(user)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    cache_key = f"django.contrib.sessions.cached_db{key}"
    assert cache.get(cache_key) is not None

    assert delete_account(user).sessions_ended == 1

    assert cache.get(cache_key) is None
    assert not Session.objects.filter(session_key=key).exists()
    assert browser.get(reverse("settings")).status_code == 302


def test_staff_delete_an_account_from_the_user_admin(staff_client, staff, account):
    alice = account["user"]
    selected = {"action": "erase_accounts", "_selected_action": [alice.pk]}
    form = staff_client.post(CHANGELIST, selected)
    assert "Delete accounts" in form.content.decode()
    assert "I understand that this cannot be undone" in form.content.decode()
    unconfirmed = staff_client.post(CHANGELIST, {**selected, "apply": "1"})
    assert "This field is required." in unconfirmed.content.decode()
    assert User.objects.get(pk=alice.pk).is_active

    done = staff_client.post(CHANGELIST, {**selected, "apply": "1", "confirm": "on"}, follow=True)

    assert f"Deleted alice (now deleted-{alice.pk}); 1 generation(s) canceled" in (
        done.content.decode()
    )
    alice.refresh_from_db()
    assert alice.is_deleted and alice.email == ""
    assert refunds_of(account["running"]) == 1
    # A deleted account cannot be brought back by Reactivate.
    staff_client.post(CHANGELIST, {"action": "reactivate", "_selected_action": [alice.pk]})
    alice.refresh_from_db()
    assert not alice.is_active


def test_deleting_accounts_needs_its_own_permission(client, staff, user):
    clerk = make_staff("clerk", superuser=False)[0]
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", "delete_user"])
    )
    client.force_login(clerk)
    changelist = client.get(CHANGELIST).content.decode()
    assert 'value="reactivate"' in changelist
    assert 'value="erase_accounts"' not in changelist
    client.post(
        CHANGELIST, {"action": "erase_accounts", "_selected_action": [user.pk], "apply": "1"}
    )
    user.refresh_from_db()
    assert user.is_active and not user.is_deleted

    staff_client = Client()
    staff_client.force_login(staff)
    refused = staff_client.post(
        CHANGELIST,
        {"action": "erase_accounts", "_selected_action": [staff.pk], "apply": "1", "confirm": "1"},
        follow=True,
    )
    assert "Delete your own account from Settings" in refused.content.decode()
    staff.refresh_from_db()
    assert staff.is_active


def test_a_forged_cross_site_deletion_is_refused(user):
    """A page elsewhere posting the form with the victim's cookie but no CSRF token."""
    user.set_password(PASSWORD)
    user.save()
    victim = Client(enforce_csrf_checks=True)
    victim.force_login(user)
    assert victim.post(DELETE).status_code == 403
    assert victim.post(reverse("data-export")).status_code == 403
    user.refresh_from_db()
    assert user.is_active and not user.is_deleted
    assert not DataExport.objects.filter(user=user).exists()
    assert (
        Client().post(DELETE)["Location"].startswith(reverse("account_login"))
    )  # and nobody deletes anything without logging in
