"""The detail page, sharing, the public share page, stored files, and other users' 404s."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Status
from tests.factories import VIDEO_BYTES, make_generation
from tests.pages import HX

pytestmark = pytest.mark.django_db


def test_detail_shows_parameters_timeline_and_the_ledger(logged_in, user):
    failed = make_generation(
        user, status=Status.FAILED, negative_prompt="blurry, low quality", seed=7
    )
    page = logged_in.get(reverse("detail", args=[failed.pk])).content.decode()
    for text in (
        failed.prompt,
        "blurry, low quality",
        "Wan 2.1 text-to-video 14B",
        "480p",
        "16:9",
        ">7<",
        "Created",
        "Started",
        "Took",
        'data-testid="charged">10 credits',
        'data-testid="refunded">10 credits',
        "The model failed while making the video.",
        "A video can be shared once it is finished.",
    ):
        assert text in page, text


def test_detail_of_a_running_generation_polls_its_live_section(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    page = logged_in.get(reverse("detail", args=[running.pk])).content.decode()
    assert f"{reverse('detail', args=[running.pk])}?since=processing" in page
    live = logged_in.get(reverse("detail", args=[running.pk]), **HX).content.decode()
    assert live.lstrip().startswith('<section id="live"')
    assert "every 2s" in live


def test_cancel_on_the_detail_page_answers_its_live_section(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    url = reverse("cancel", args=[running.pk])
    next_url = reverse("detail", args=[running.pk])
    body = logged_in.post(url, {"next": next_url}, HTTP_HX_TARGET="live", **HX).content.decode()
    assert body.lstrip().startswith('<section id="live"')
    assert "10 credits were refunded." in body
    assert f'action="{reverse("retry", args=[running.pk])}"' in body
    assert logged_in.post(url, {"next": next_url})["Location"] == next_url  # without htmx


def test_delete_on_the_detail_page_takes_htmx_back_to_history(logged_in, user):
    done = make_generation(user)
    response = logged_in.post(
        reverse("delete", args=[done.pk]),
        {"next": reverse("detail", args=[done.pk])},
        HTTP_HX_TARGET="live",
        **HX,
    )
    assert response["HX-Redirect"] == reverse("history")


def test_detail_poll_announces_success(logged_in, user):
    done = make_generation(user)
    live = logged_in.get(
        reverse("detail", args=[done.pk]) + "?since=processing", **HX
    ).content.decode()
    assert f"Generation #{done.pk} is ready." in live
    assert "<video" in live and "every 2s" not in live


def test_share_link_works_logged_out_until_revoked(logged_in, client, user):
    done = make_generation(user)
    page = logged_in.post(reverse("share", args=[done.pk]), follow=True).content.decode()
    done.refresh_from_db()
    assert len(done.share_token or "") >= 32
    share_url = reverse("shared", args=[done.share_token])
    assert share_url in page
    video_url = reverse("shared-file", args=[done.share_token, "video"])

    logged_in.logout()
    public = client.get(share_url)
    assert public.status_code == 200
    assert done.prompt in public.content.decode()
    shared_video = client.get(video_url)
    assert b"".join(shared_video.streaming_content) == VIDEO_BYTES
    assert shared_video["Cache-Control"] == "private, no-store"
    assert client.get(reverse("shared-file", args=[done.share_token, "input"])).status_code == 404

    client.force_login(user)
    client.post(reverse("revoke-share", args=[done.pk]))
    client.logout()
    assert client.get(share_url).status_code == 404
    assert client.get(video_url).status_code == 404


def test_only_a_finished_video_can_be_shared(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    page = logged_in.post(reverse("share", args=[running.pk]), follow=True).content.decode()
    assert "Only a finished video can be shared." in page
    running.refresh_from_db()
    assert running.share_token is None


def test_an_unknown_share_token_is_a_404(client):
    assert client.get(reverse("shared", args=["not-a-real-token"])).status_code == 404


def test_the_owner_gets_the_video_whole_or_in_ranges(logged_in, user):
    done = make_generation(user)
    url = reverse("generation-file", args=[done.pk, "video"])
    whole = logged_in.get(url)
    assert whole.status_code == 200
    assert whole["Content-Type"] == "video/mp4"
    assert whole["Accept-Ranges"] == "bytes"
    assert "private" in whole["Cache-Control"]
    assert b"".join(whole.streaming_content) == VIDEO_BYTES

    part = logged_in.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-19/{len(VIDEO_BYTES)}"
    assert b"".join(part.streaming_content) == VIDEO_BYTES[10:20]

    tail = logged_in.get(url, HTTP_RANGE="bytes=-5")
    assert b"".join(tail.streaming_content) == VIDEO_BYTES[-5:]
    open_ended = logged_in.get(url, HTTP_RANGE="bytes=100-")
    assert b"".join(open_ended.streaming_content) == VIDEO_BYTES[100:]

    beyond = logged_in.get(url, HTTP_RANGE=f"bytes={len(VIDEO_BYTES)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(VIDEO_BYTES)}"
    garbage = logged_in.get(url, HTTP_RANGE="bytes=abc")
    assert garbage.status_code == 200


def test_download_is_an_attachment(logged_in, user):
    done = make_generation(user)
    response = logged_in.get(reverse("generation-file", args=[done.pk, "video"]) + "?download=1")
    assert response["Content-Disposition"] == f'attachment; filename="wan-{done.pk}.mp4"'


def test_poster_and_input_image_are_served_to_the_owner(logged_in, user):
    done = make_generation(user, model_key="i2v-14B")
    poster = logged_in.get(reverse("generation-file", args=[done.pk, "poster"]))
    assert poster["Content-Type"] == "image/jpeg"
    image = logged_in.get(reverse("generation-file", args=[done.pk, "input"]))
    assert image["Content-Type"] == "image/png"
    assert logged_in.get(reverse("generation-file", args=[done.pk, "secrets"])).status_code == 404


def test_a_file_that_does_not_exist_is_a_404(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    assert logged_in.get(reverse("generation-file", args=[running.pk, "video"])).status_code == 404


@pytest.mark.parametrize(
    ("method", "name", "extra"),
    [
        ("get", "detail", ()),
        ("get", "generation-card", ()),
        ("get", "generation-file", ("video",)),
        ("get", "generation-file", ("input",)),
        ("post", "star", ()),
        ("post", "cancel", ()),
        ("post", "retry", ()),
        ("post", "delete", ()),
        ("post", "share", ()),
        ("post", "revoke-share", ()),
    ],
)
def test_other_users_generations_are_404_everywhere(client, make_user, method, name, extra):
    owner, other = make_user("owner"), make_user("other")
    generation = make_generation(owner, status=Status.FAILED, model_key="i2v-14B")
    client.force_login(other)
    response = getattr(client, method)(reverse(name, args=[generation.pk, *extra]))
    assert response.status_code == 404
    generation.refresh_from_db()
    assert generation.deleted_at is None and not generation.starred
    assert generation.share_token is None


def test_a_deleted_generation_is_gone_for_its_owner_too(logged_in, user):
    done = make_generation(user)
    logged_in.post(reverse("delete", args=[done.pk]))
    assert logged_in.get(reverse("detail", args=[done.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("create", ()),
        ("history", ()),
        ("detail", (1,)),
        ("generation-card", (1,)),
        ("generation-file", (1, "video")),
        ("settings", ()),
    ],
)
def test_pages_need_a_login(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("name", ["star", "cancel", "retry", "delete", "share", "revoke-share"])
def test_actions_refuse_get(logged_in, user, name):
    generation = make_generation(user)
    assert logged_in.get(reverse(name, args=[generation.pk])).status_code == 405
