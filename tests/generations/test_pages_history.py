"""The history page: listing, filters, live cards, actions, bulk actions and its query count."""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits.selectors import balance_of
from generations import eta
from generations.failures import FailureReason
from generations.lifecycle.transitions import apply_prediction_update
from generations.models import Generation, Status
from tests.factories import VIDEO_BYTES, make_generation, set_credits
from tests.generations.lifecycle_helpers import update
from tests.pages import HX, found
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db


def card_ids(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="card" id="generation-(\d+)"', page)]


def test_history_lists_own_generations_newest_first_with_status_badges(logged_in, user, make_user):
    old = make_generation(user, prompt="The oldest one, a calm lake")
    failed = make_generation(
        user, status=Status.FAILED, failure_reason=FailureReason.REJECTED_PROMPT
    )
    running = make_generation(user, status=Status.PROCESSING, progress=63)
    make_generation(make_user("mallory"), prompt="Mallory's generation, not yours")
    page = logged_in.get(reverse("history")).content.decode()
    assert card_ids(page) == [running.pk, failed.pk, old.pk]
    assert "Mallory" not in page
    assert ">Processing</span>" in page and ">Failed</span>" in page
    assert 'value="63"' in page
    assert (
        "The model&#x27;s safety checker rejected the prompt. "
        "<strong>10 credits were refunded.</strong>"
        in page.replace("\n    ", " ").replace("\n", " ")
    )


def action_names(html: str) -> set[str]:
    """The actions an action bar offers: the forms it posts to and the links it has."""
    names = set(re.findall(r'action="/generations/\d+/(cancel|retry|delete)/"', html))
    names |= {"download"} if "?download=1" in html else set()
    return names | ({"remix"} if "?remix=" in html else set())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.QUEUED, {"cancel", "remix"}),
        (Status.PROCESSING, {"cancel", "remix"}),
        (Status.SUCCEEDED, {"download", "remix", "delete"}),
        (Status.FAILED, {"retry", "remix", "delete"}),
        (Status.CANCELED, {"retry", "remix", "delete"}),
    ],
)
def test_card_and_detail_offer_the_actions_the_rules_allow(logged_in, user, status, expected):
    generation = make_generation(user, status=status)
    card = found(
        r'<article class="card".*?</article>',
        logged_in.get(reverse("history")).content.decode(),
        re.S,
    )[0]
    live = logged_in.get(reverse("detail", args=[generation.pk]), **HX).content.decode()
    assert action_names(card) == action_names(live) == expected
    for html in (card, live):  # htmx where it runs, a real form for a full load
        for name in {"cancel", "delete"} & expected:
            url = reverse(name, args=[generation.pk])
            assert f'action="{url}" hx-post="{url}" hx-target="closest [data-live]"' in html


def test_only_in_flight_cards_poll_for_updates(logged_in, user):
    running = make_generation(user, status=Status.QUEUED)
    done = make_generation(user)
    page = logged_in.get(reverse("history")).content.decode()
    poll = reverse("generation-card", args=[running.pk]) + "?since=queued"
    assert poll in page
    assert reverse("generation-card", args=[done.pk]) not in page
    assert page.count('hx-trigger="every 2s"') == 1


def test_a_finished_card_stops_polling_and_announces_the_end_with_retry(logged_in, user):
    failed = make_generation(user, status=Status.FAILED, failure_detail="GPU out of memory.")
    url = reverse("generation-card", args=[failed.pk]) + "?since=processing"
    response = logged_in.get(url, **HX)
    body = response.content.decode()
    assert "every 2s" not in body
    assert (
        f"Generation #{failed.pk} failed: The model failed while making the video. "
        "10 credits were refunded."
    ) in body
    assert "GPU out of memory" not in body  # the provider's words are for staff
    assert f'action="{reverse("retry", args=[failed.pk])}"' in body  # the toast's Retry
    assert 'hx-swap-oob="beforeend:#toasts"' in body
    assert "100 credits" in body  # the refunded balance, out of band for the header


def test_a_card_still_in_flight_keeps_polling_quietly(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    body = logged_in.get(
        reverse("generation-card", args=[running.pk]) + "?since=processing", **HX
    ).content.decode()
    assert "every 2s" in body
    assert "toast-" not in body


def test_a_poll_that_changes_nothing_is_a_304_in_a_constant_few_queries(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING, progress=10)
    url = reverse("generation-card", args=[running.pk]) + "?since=processing"
    first = logged_in.get(url, **HX)
    assert first.status_code == 200 and first["ETag"]
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    assert "hx-swap-oob" not in first.content.decode()  # reusable: no toasts, no balance

    with CaptureQueriesContext(connection) as queries:
        again = logged_in.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HX)
    assert (again.status_code, again.content) == (304, b"")
    # The session, the user, the generation: two with Redis sessions (cached_db).
    assert len(queries) == 3

    assert running.prediction_id is not None
    apply_prediction_update(running.pk, update(running.prediction_id, "processing", logs="55%"))
    changed = logged_in.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HX)
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert 'value="55"' in changed.content.decode()


def test_the_detail_page_and_its_poll_vary_on_hx_request(logged_in, user):
    running = make_generation(user, status=Status.STARTING)
    url = reverse("detail", args=[running.pk])
    page, poll = logged_in.get(url), logged_in.get(url + "?since=starting", **HX)
    assert "HX-Request" in page["Vary"] and "HX-Request" in poll["Vary"]
    assert poll["ETag"] and "ETag" not in page
    assert logged_in.get(url, HTTP_IF_NONE_MATCH=poll["ETag"], **HX).status_code == 304


def test_filters_by_status_and_star(logged_in, user):
    starred = make_generation(user, starred=True)
    failed = make_generation(user, status=Status.FAILED)
    plain = make_generation(user)
    assert card_ids(logged_in.get(reverse("history") + "?starred=1").content.decode()) == [
        starred.pk
    ]
    assert card_ids(logged_in.get(reverse("history") + "?status=failed").content.decode()) == [
        failed.pk
    ]
    everything = logged_in.get(reverse("history") + "?status=nonsense").content.decode()
    assert card_ids(everything) == [plain.pk, failed.pk, starred.pk]
    empty = logged_in.get(reverse("history") + "?status=canceled&starred=1").content.decode()
    assert "No generations match these filters." in empty


def test_filtering_with_htmx_answers_the_results_alone(logged_in, user):
    make_generation(user, starred=True)
    response = logged_in.get(
        reverse("history") + "?starred=1", HTTP_HX_TARGET="history-results", **HX
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="history-results"')
    assert "<html" not in body
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in response["Vary"].split(",")}


def test_pagination_keeps_the_filters(logged_in, user):
    for _ in range(14):
        make_generation(user, starred=True, charged=False)
    page = logged_in.get(reverse("history") + "?starred=1").content.decode()
    assert len(card_ids(page)) == 12
    assert "Page 1 of 2" in page
    assert "?starred=1&amp;page=2" in page
    second = logged_in.get(reverse("history") + "?starred=1&page=2").content.decode()
    assert len(card_ids(second)) == 2
    bigger = logged_in.get(reverse("history") + "?per_page=24").content.decode()
    assert len(card_ids(bigger)) == 14
    assert logged_in.get(reverse("history") + "?page=99&per_page=7").status_code == 200


def history_queries(client: Client, user: User, count: int) -> int:
    Generation.objects.filter(user=user).delete()
    statuses = [Status.SUCCEEDED, Status.FAILED, Status.PROCESSING, Status.CANCELED]
    for index in range(count):
        make_generation(
            user, status=statuses[index % 4], starred=index % 3 == 0, charged=index < 10
        )
    eta.clear_cache()  # each measurement pays for the ETA statistics, whatever ran before
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("history") + "?per_page=100")
    assert response.status_code == 200
    assert len(card_ids(response.content.decode())) == count
    return len(queries)


def test_history_runs_the_same_number_of_queries_for_10_and_100_generations(
    logged_in, user, make_user
):
    user_10 = make_user("ten")
    user_100 = make_user("hundred")
    logged_in.force_login(user_10)
    with_10 = history_queries(logged_in, user_10, 10)
    logged_in.force_login(user_100)
    with_100 = history_queries(logged_in, user_100, 100)
    print(f"history page SQL queries: {with_10} at 10 generations, {with_100} at 100")
    assert with_10 == with_100
    assert with_100 <= 6


def test_star_and_unstar_with_htmx_swaps_the_button(logged_in, user):
    generation = make_generation(user)
    body = logged_in.post(
        reverse("star", args=[generation.pk]), {"starred": "1"}, **HX
    ).content.decode()
    generation.refresh_from_db()
    assert generation.starred
    assert 'aria-pressed="true"' in body and "Starred #" in body
    logged_in.post(reverse("star", args=[generation.pk]), {"starred": "0"})
    generation.refresh_from_db()
    assert not generation.starred


def test_cancel_refunds_and_answers_the_updated_card(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    assert balance_of(user) == 90
    body = logged_in.post(reverse("cancel", args=[running.pk]), **HX).content.decode()
    running.refresh_from_db()
    assert running.status == Status.CANCELED
    assert balance_of(user) == 100
    assert 'data-status="canceled"' in body
    assert "10 credits were refunded." in body
    assert "100 credits" in body  # header balance, out of band


def test_cancel_of_a_finished_generation_is_a_message_not_an_error(logged_in, user):
    done = make_generation(user)
    response = logged_in.post(reverse("cancel", args=[done.pk]), follow=True)
    assert response.status_code == 200
    assert "This generation has already finished." in response.content.decode()


def test_retry_makes_a_new_charged_generation_once_per_key(logged_in, user):
    failed = make_generation(user, status=Status.FAILED)
    data = {"idempotency_key": "retry-click"}
    response = logged_in.post(reverse("retry", args=[failed.pk]), data, follow=True)
    logged_in.post(reverse("retry", args=[failed.pk]), data)
    retry = Generation.objects.get(retried_from=failed)
    assert (retry.status, retry.prompt) == (Status.QUEUED, failed.prompt)
    assert balance_of(user) == 90
    assert f"Retrying #{failed.pk} as #{retry.pk}" in response.content.decode()


def test_retry_of_a_succeeded_generation_is_refused(logged_in, user):
    done = make_generation(user)
    response = logged_in.post(reverse("retry", args=[done.pk]), follow=True)
    assert "Only a failed or canceled generation can be retried." in response.content.decode()
    assert Generation.objects.count() == 1


def test_retry_without_credits_links_to_more_credits(logged_in, user):
    failed = make_generation(user, status=Status.FAILED)
    set_credits(user, 5)
    page = logged_in.post(reverse("retry", args=[failed.pk]), follow=True).content.decode()
    assert "This needs 10 credits but only 5 are available." in page
    assert "Get credits" in page


def test_delete_with_htmx_removes_the_card_and_the_files(
    logged_in, user, django_capture_on_commit_callbacks
):
    generation = make_generation(user)
    video_path = generation.video.path
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("delete", args=[generation.pk]), **HX)
    body = response.content.decode()
    assert not body.split("<", 1)[0].strip()  # nothing but out-of-band extras
    assert "Deleted #" in body
    generation.refresh_from_db()
    assert generation.deleted_at is not None
    assert not os.path.exists(video_path)
    assert card_ids(logged_in.get(reverse("history")).content.decode()) == []


def test_delete_from_the_detail_page_goes_back_to_history(logged_in, user):
    generation = make_generation(user)
    response = logged_in.post(
        reverse("delete", args=[generation.pk]), {"next": reverse("detail", args=[generation.pk])}
    )
    assert response["Location"] == reverse("history")


def test_an_in_flight_generation_cannot_be_deleted(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    body = logged_in.post(reverse("delete", args=[running.pk]), **HX).content.decode()
    assert "Cancel this generation before deleting it." in body
    running.refresh_from_db()
    assert running.deleted_at is None


def test_an_unsafe_next_is_ignored(logged_in, user):
    generation = make_generation(user)
    response = logged_in.post(
        reverse("star", args=[generation.pk]), {"starred": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("detail", args=[generation.pk])


def test_bulk_download_streams_one_zip_of_the_selected_videos(logged_in, user):
    first, second = make_generation(user), make_generation(user)
    running = make_generation(user, status=Status.PROCESSING)
    response = logged_in.post(
        reverse("history-bulk"),
        {"action": "download", "ids": [first.pk, second.pk, running.pk]},
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == sorted([f"wan-{first.pk}.mp4", f"wan-{second.pk}.mp4"])
    assert archive.read(f"wan-{first.pk}.mp4") == VIDEO_BYTES
    assert archive.testzip() is None


def test_bulk_delete_deletes_what_it_can_and_says_what_it_kept(logged_in, user, make_user):
    first, second = make_generation(user), make_generation(user)
    running = make_generation(user, status=Status.PROCESSING)
    others = make_generation(make_user("mallory"))
    page = logged_in.post(
        reverse("history-bulk"),
        {"action": "delete", "ids": [first.pk, second.pk, running.pk, others.pk]},
        follow=True,
    ).content.decode()
    assert "Deleted 2 generations." in page
    assert "1 still in progress and not deleted" in page
    assert set(
        Generation.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)
    ) == {
        first.pk,
        second.pk,
    }


@pytest.mark.parametrize(
    "data",
    [{"action": "explode", "ids": ["1"]}, {"action": "delete", "ids": ["1; DROP TABLE"]}, {}],
)
def test_bulk_with_bad_input_is_a_400(logged_in, data):
    assert logged_in.post(reverse("history-bulk"), data).status_code == 400


def test_bulk_with_nothing_selected_says_so(logged_in):
    page = logged_in.post(reverse("history-bulk"), {"action": "download"}, follow=True)
    assert "Select at least one generation first." in page.content.decode()
