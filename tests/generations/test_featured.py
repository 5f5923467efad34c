"""The home page's gallery: owners allow featuring on the share UI, staff feature among the
shared videos so allowed, visitors watch them and remix their prompts after signing up."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from generations.actions.deletion import (
    delete_generation,
    erase_generation,
    remove_expired_files,
)
from generations.actions.sharing import (
    enable_sharing,
    feature_generation,
    revoke_sharing,
    set_feature_consent,
)
from generations.models import Generation, Status
from tests.factories import PASSWORD, make_generation, make_staff
from tests.generations.test_generation_admin import act
from tests.pages import found

pytestmark = pytest.mark.django_db


def shared(user, prompt: str = "A lighthouse on a cliff at dusk", *, allowed: bool = True):
    generation = enable_sharing(make_generation(user, prompt=prompt))
    return set_feature_consent(generation, allowed) if allowed else generation


def test_staff_feature_only_shared_videos_whose_owners_allow_it(staff_client, user):
    allowed = shared(user)
    not_allowed = shared(user, allowed=False)
    private = make_generation(user)
    running = make_generation(user, status=Status.PROCESSING)

    response = act(staff_client, "feature", allowed, not_allowed, private, running)

    body = response.content.decode()
    assert f"#{not_allowed.pk}: Its owner has not allowed featuring it." in body
    assert f"#{private.pk}: Its owner has not shared it." in body
    assert f"#{running.pk}: Only a finished video can be featured." in body
    assert "Featured 1 of 4 generation(s)." in body
    featured = Generation.objects.filter(featured_at__isnull=False)
    assert list(featured.values_list("pk", flat=True)) == [allowed.pk]

    act(staff_client, "unfeature", allowed)
    assert not Generation.objects.filter(featured_at__isnull=False).exists()


def test_featuring_needs_its_own_permission(client: Client, make_user, user):
    video = shared(user)
    changer = make_staff("changer", superuser=False)[0]
    changer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_generation", "change_generation"])
    )
    client.force_login(changer)
    act(client, "feature", video)
    video.refresh_from_db()
    assert video.featured_at is None

    changer.user_permissions.add(Permission.objects.get(codename="feature_generation"))
    act(client, "feature", video)
    video.refresh_from_db()
    assert video.featured_at is not None


def test_the_home_page_plays_featured_videos_muted_lazily_with_posters_and_remix(
    client: Client, user
):
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="featured"' not in page  # nothing featured: no section at all

    video = feature_generation(shared(user, "Waves & foam on a black sand beach #night"))
    shared(user, "Shared but never featured")
    page = client.get(reverse("home")).content.decode()

    gallery = found(r'data-testid="featured">(.*?)</section>', page, re.S)[1]
    token = video.share_token
    assert f'poster="{reverse("shared-file", args=[token, "poster"])}"' in gallery
    assert f'src="{reverse("shared-file", args=[token, "video"])}"' in gallery
    assert 'muted loop playsinline controls preload="none"' in gallery
    assert "Waves &amp; foam on a black sand beach #night" in gallery
    assert "never featured" not in gallery
    # "Remix this": sign up first, then the create page with the prompt.
    href = found(r'href="([^"]*)"[^>]*>.*?Remix this', gallery, re.S)[1].replace("&amp;", "&")
    assert urlsplit(href).path == reverse("account_signup")
    after = parse_qs(urlsplit(href).query)["next"][0]
    assert urlsplit(after).path == reverse("create")
    assert parse_qs(urlsplit(after).query)["prompt"] == [video.prompt]
    # The files behind it are the access-checked share views.
    assert client.get(reverse("shared-file", args=[token, "poster"])).status_code == 200


@pytest.mark.parametrize(
    "unshare",
    [
        pytest.param(revoke_sharing, id="link revoked"),
        pytest.param(lambda g: set_feature_consent(g, False), id="consent withdrawn"),
        pytest.param(delete_generation, id="deleted"),
        pytest.param(lambda g: erase_generation(g.pk), id="account deleted"),
    ],
)
def test_the_owner_takes_a_video_off_the_home_page(client: Client, user, unshare):
    video = feature_generation(shared(user))
    unshare(video)
    video.refresh_from_db()
    assert video.featured_at is None
    assert 'data-testid="featured"' not in client.get(reverse("home")).content.decode()


def test_an_expired_video_leaves_the_home_page_with_its_link(user):
    video = feature_generation(shared(user))
    Generation.objects.filter(pk=video.pk).update(video_expires_at=video.created_at)
    assert remove_expired_files("video", video.created_at) == 1
    video.refresh_from_db()
    assert (video.share_token, video.featured_at) == (None, None)


def test_a_new_link_asks_for_consent_again(user):
    video = shared(user)
    revoke_sharing(video)
    enable_sharing(video)
    assert video.feature_consent is False


def test_the_database_refuses_featuring_what_is_not_shared_and_allowed(user):
    video = shared(user, allowed=False)
    with pytest.raises(IntegrityError):
        Generation.objects.filter(pk=video.pk).update(featured_at=video.created_at)


def test_the_owner_allows_and_withdraws_featuring_on_the_share_ui(logged_in, user):
    video = enable_sharing(make_generation(user))
    detail = logged_in.get(reverse("detail", args=[video.pk])).content.decode()
    assert "Staff may show this video and its prompt on the home page" in detail
    url = reverse("feature-consent", args=[video.pk])

    logged_in.post(url, {"allowed": "on"})
    video.refresh_from_db()
    assert video.feature_consent is True
    logged_in.post(url, {})
    video.refresh_from_db()
    assert video.feature_consent is False


def test_consent_needs_a_share_link(logged_in, user):
    video = make_generation(user)
    response = logged_in.post(
        reverse("feature-consent", args=[video.pk]), {"allowed": "on"}, follow=True
    )
    assert "Share the video first" in response.content.decode()
    video.refresh_from_db()
    assert video.feature_consent is False


def test_nobody_else_can_allow_featuring_a_video(client: Client, user, make_user):
    video = enable_sharing(make_generation(user))
    url = reverse("feature-consent", args=[video.pk])
    assert client.post(url, {"allowed": "on"}).status_code == 302  # to the login page
    client.force_login(make_user("mallory"))
    assert client.post(url, {"allowed": "on"}).status_code == 404
    client.force_login(user)
    assert client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(url, {"allowed": "on"}).status_code == 403
    video.refresh_from_db()
    assert video.feature_consent is False


def test_sign_up_continues_to_the_create_page_with_the_prompt(client: Client):
    prompt = "Waves & foam on a black sand beach #night"
    create = f"{reverse('create')}?{urlencode({'prompt': prompt})}"
    response = client.post(
        f"{reverse('account_signup')}?{urlencode({'next': create})}",
        {
            "username": "vera",
            "email": "vera@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == create
    assert f">\n{prompt.replace('&', '&amp;')}</textarea>" in response.content.decode()


def test_sign_up_never_continues_to_another_site(client: Client):
    response = client.post(
        f"{reverse('account_signup')}?next=https://evil.example/",
        {
            "username": "walt",
            "email": "walt@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response["Location"] == reverse("home")


def test_a_prompt_in_the_create_url_is_cut_to_the_longest_allowed(logged_in):
    page = logged_in.get(reverse("create"), {"prompt": "x" * 900}).content.decode()
    assert f">\n{'x' * 500}</textarea>" in page
