"""The Generation and WebhookEvent admin: filters, search, ledger links, and the actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse

from credits.models import CreditTransaction
from generations.failures import FailureReason
from generations.lifecycle.transitions import apply_prediction_update, mark_failed
from generations.models import Generation, Status
from tests.factories import make_staff
from tests.generations.lifecycle_helpers import (
    post_webhook,
    prediction,
    refunds_of,
    run_tasks,
    submit,
    update,
)
from webhooks.models import WebhookEvent

if TYPE_CHECKING:  # what the test client answers, named in django-stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.usefixtures("replicate_settings")

CHANGELIST = reverse("admin:generations_generation_changelist")


def act(client: Client, action: str, *generations: Generation) -> TestResponse:
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [g.pk for g in generations]},
        follow=True,
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=failed",
        "?model_key__exact=t2v-1.3B",
        "?created_at__gte=2020-01-01T00:00:00%2B00:00",
        "?q=fox",
        "?q=alice",
        "?q=p-find-me",
    ],
)
def test_the_changelist_filters_and_searches(staff_client, user, query):
    found = submit(user, "A fox that should be found by search")
    apply_prediction_update(found.pk, update("p-find-me", "starting"))

    response = staff_client.get(CHANGELIST + query)

    assert response.status_code == 200
    if query.startswith("?q="):
        assert response.context["cl"].result_count == 1


def test_the_detail_page_links_to_the_ledger_entries_and_webhook_events(staff_client, user, client):
    generation = submit(user)
    mark_failed(generation.pk, FailureReason.PROVIDER_ERROR)

    response = staff_client.get(
        reverse("admin:generations_generation_change", args=[generation.pk])
    )

    assert response.status_code == 200
    content = response.content.decode()
    for row in CreditTransaction.objects.filter(generation=generation):
        assert reverse("admin:credits_credittransaction_change", args=[row.pk]) in content
    assert f"generation__id__exact={generation.pk}" in content
    assert 'name="_save"' not in content  # read-only: changes go through the actions


def test_the_detail_page_shows_staff_the_input_sent_to_replicate_escaped(
    staff_client, user, replicate_api
):
    replicate_api.create_prediction().respond(201, json=prediction("p-sent", "starting"))
    generation = submit(user, "A fox <script>alert(1)</script> in the snow")
    page = reverse("admin:generations_generation_change", args=[generation.pk])
    assert "nothing yet" in staff_client.get(page).content.decode()

    run_tasks()

    content = staff_client.get(page).content.decode()
    assert "Sent to Replicate" in content
    assert "&quot;prompt&quot;: &quot;A fox &lt;script&gt;alert(1)&lt;/script&gt; in the snow" in (
        content
    )
    assert "<script>alert(1)" not in content


def test_the_refund_action_refunds_failures_once_and_explains_the_others(
    staff_client, user, assert_audit_clean
):
    unrefunded = submit(user)
    Generation.objects.filter(pk=unrefunded.pk).update(
        status=Status.FAILED, failure_reason=FailureReason.PROVIDER_ERROR
    )
    running = submit(user)

    response = act(staff_client, "refund", unrefunded, running)
    act(staff_client, "refund", unrefunded)

    text = response.content.decode()
    assert "refunded 5 credits" in text
    assert "cancel it instead" in text
    assert refunds_of(unrefunded) == 1
    assert refunds_of(running) == 0
    assert_audit_clean()


def test_the_cancel_action_cancels_and_refunds(staff_client, user, replicate_api):
    generation = submit(user)

    act(staff_client, "cancel", generation)

    generation.refresh_from_db()
    assert generation.status == Status.CANCELED
    assert refunds_of(generation) == 1


def test_the_resync_action_applies_what_replicate_says(staff_client, user, replicate_api):
    generation = submit(user)
    apply_prediction_update(generation.pk, update("p-sync", "starting"))
    replicate_api.get_prediction("p-sync").respond(
        200, json=prediction("p-sync", "failed", error="GPU lost")
    )

    response = act(staff_client, "resync", generation)

    assert "Replicate says failed" in response.content.decode()
    generation.refresh_from_db()
    assert generation.status == Status.FAILED
    assert refunds_of(generation) == 1


def test_staff_without_permissions_cannot_run_the_actions(client, make_user, user):
    client.force_login(make_staff("viewer", superuser=False)[0])
    generation = submit(user)

    response = act(client, "cancel", generation)

    assert response.status_code in (403, 200)
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED


def test_webhook_events_show_their_payload_and_can_be_processed_again(staff_client, user):
    generation = submit(user)
    post_webhook(staff_client, generation, prediction("p-1", "failed", error="boom"))
    event = WebhookEvent.objects.get()
    # Suppose the refund had been lost to a bug fixed since: processing again restores it.
    page = staff_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))
    listing = staff_client.get(
        reverse("admin:webhooks_webhookevent_changelist")
        + f"?generation__id__exact={generation.pk}"
    )

    response = staff_client.post(
        reverse("admin:webhooks_webhookevent_changelist"),
        {"action": "process_again", "_selected_action": [event.pk]},
        follow=True,
    )

    assert page.status_code == listing.status_code == 200
    assert "boom" in page.content.decode()
    assert listing.context["cl"].result_count == 1
    assert "Processed 1 event(s) again: 1 final." in response.content.decode()
    event.refresh_from_db()
    assert event.outcome == "final"
    assert refunds_of(generation) == 1
