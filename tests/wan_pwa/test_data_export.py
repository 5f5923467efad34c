"""Export my data: a task builds a ZIP of the profile, generations with their inputs, ledger,
orders, API key names and the stored files; it is kept privately (local disk or S3), reachable
only by its owner, announced by e-mail, bounded per user, and deleted when it expires."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credits.low_balance import set_threshold
from credits.selectors import balance_of
from generations.models import Status
from tests.credits.stripe_support import buy
from tests.factories import audio_bytes, make_generation
from tests.generations.lifecycle_helpers import run_tasks
from wan_pwa.accounts.api_keys import create_api_key
from wan_pwa.accounts.data_export import STUCK_AFTER, remove_expired_exports
from wan_pwa.accounts.models import DataExport, User
from wan_pwa.background.scheduler import JOBS

pytestmark = pytest.mark.django_db

SETTINGS = reverse("settings")


def ask_for_export(client: Client) -> str:
    """Presses "Export my data"; returns the Settings page it lands on."""
    response = client.post(reverse("data-export"), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def built_export(client: Client, user: User) -> DataExport:
    ask_for_export(client)
    run_tasks()
    export = DataExport.objects.get(user=user)
    assert export.status == DataExport.Status.READY
    return export


def download(client: Client, export: DataExport) -> zipfile.ZipFile:
    response = client.get(reverse("data-export-download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    return zipfile.ZipFile(io.BytesIO(response.getvalue()))


def stored_bytes(stored) -> bytes:
    with stored.storage.open(stored.name, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("storage", ["local disk", "S3"])
def test_the_export_holds_everything_of_the_user_and_nothing_secret(
    request, storage, logged_in, user, other_user, stripe_sim, mailoutbox
):
    if storage == "S3":
        bucket = request.getfixturevalue("object_storage")
    animated = make_generation(
        user, model_key="i2v-2.5", options={}, audio=audio_bytes(), prompt="A kite over dunes"
    )
    failed = make_generation(user, status=Status.FAILED, prompt="A storm at sea, slowly")
    make_generation(other_user, prompt="Someone else's secret prompt")
    order = buy(stripe_sim, user)
    set_threshold(user, 30)
    key, raw_key = create_api_key(user, "my laptop script")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    page = ask_for_export(logged_in)
    assert "Your data export is being prepared" in page
    run_tasks()

    export = DataExport.objects.get(user=user)
    assert mailoutbox[-1].to == [user.email]
    link = f"{django_settings.SITE_URL}{reverse('data-export-download', args=[export.pk])}"
    assert link in mailoutbox[-1].body
    assert "Download your data" in logged_in.get(SETTINGS).content.decode()
    archive = download(logged_in, export)
    if storage == "S3":
        stored_keys = bucket.keys()
        assert export.file.name in stored_keys
        assert export.file.name.startswith("exports/")

    def read(name: str):
        return json.loads(archive.read(f"{name}.json"))

    assert read("profile")["email"] == user.email
    assert [address["email"] for address in read("profile")["email_addresses"]] == [user.email]
    assert [factor["type"] for factor in read("second_factors")] == ["totp"]
    generations = {entry["id"]: entry for entry in read("generations")}
    assert set(generations) == {animated.pk, failed.pk}
    assert generations[failed.pk]["prompt"] == "A storm at sea, slowly"
    assert generations[failed.pk]["status"] == "failed"
    record = generations[animated.pk]
    assert (record["prompt"], record["model"]) == ("A kite over dunes", "i2v-2.5")
    assert record["options"] == animated.options
    for name, field in [
        ("input_image", animated.input_image),
        ("input_audio", animated.input_audio),
        ("video", animated.video),
        ("poster", animated.poster),
    ]:
        assert archive.read(record["files"][name]) == stored_bytes(field), name
    ledger = read("ledger")
    assert sum(entry["amount"] for entry in ledger) == balance_of(user)
    assert {entry["type"] for entry in ledger} >= {"bonus", "deduction", "refund", "purchase"}
    assert sum(bucket["remaining"] for bucket in read("credit_buckets")) == balance_of(user)
    assert [(o["id"], o["status"], o["amount"]) for o in read("orders")] == [
        (order.pk, "paid", order.amount)
    ]
    assert read("credit_settings") == {"low_balance_threshold": 30, "auto_refill": None}
    assert read("api_keys")[0]["name"] == "my laptop script"
    assert read("api_keys")[0]["scopes"] == key.scopes
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert key.key_hash.encode() not in everything and raw_key.encode() not in everything
    assert secret.encode() not in everything
    assert b"Someone else's secret prompt" not in everything


def test_only_the_owner_downloads_an_export(logged_in, user, other_user):
    export = built_export(logged_in, user)
    url = reverse("data-export-download", args=[export.pk])
    intruder = Client()
    intruder.force_login(other_user)
    assert intruder.get(url).status_code == 404
    assert intruder.post(url).status_code == 405
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(
        reverse("account_login")
    )
    missing = reverse("data-export-download", args=[export.pk + 1000])
    assert logged_in.get(missing).status_code == 404


def test_one_export_at_a_time_and_one_a_day(logged_in, user):
    ask_for_export(logged_in)
    page = ask_for_export(logged_in)
    assert "Your data export is being prepared; you will get an e-mail" in page
    assert DataExport.objects.filter(user=user).count() == 1

    run_tasks()
    page = ask_for_export(logged_in)
    assert "You can export your data once a day" in page
    assert DataExport.objects.filter(user=user).count() == 1

    DataExport.objects.filter(user=user).update(created_at=timezone.now() - timedelta(days=1))
    ask_for_export(logged_in)
    assert DataExport.objects.filter(user=user).count() == 2


def test_a_stuck_export_fails_and_may_be_asked_again(logged_in, user):
    ask_for_export(logged_in)  # its task never runs
    remove_expired_exports(now=timezone.now() + STUCK_AFTER + timedelta(seconds=1))
    assert DataExport.objects.get(user=user).status == DataExport.Status.FAILED
    assert "could not be made" in logged_in.get(SETTINGS).content.decode()
    ask_for_export(logged_in)
    assert DataExport.objects.filter(user=user, status="pending").count() == 1
    run_tasks()  # the late task of the failed one does nothing; the new one is built
    assert DataExport.objects.filter(user=user, status="ready").count() == 1


def test_an_export_is_deleted_from_the_storage_when_it_expires(
    logged_in, user, object_storage, django_capture_on_commit_callbacks
):
    export = built_export(logged_in, user)
    name = export.file.name
    before = object_storage.keys()
    assert name in before
    job = JOBS.get("expire_data_exports")
    assert job.call == remove_expired_exports and job.every == 3600

    assert job.call() == "0 export(s) removed, 0 stuck export(s) failed"  # not yet
    assert export.expires_at is not None
    later = export.expires_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):  # a run at a later hour
        assert remove_expired_exports(now=later).startswith("1 export(s) removed")

    after = object_storage.keys()
    assert name not in after
    export.refresh_from_db()
    assert (export.status, export.file.name) == (DataExport.Status.EXPIRED, "")
    assert logged_in.get(reverse("data-export-download", args=[export.pk])).status_code == 404
    assert "Download your data" not in logged_in.get(SETTINGS).content.decode()
