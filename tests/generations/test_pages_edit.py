"""The edit page (a take of a finished video, or of an uploaded clip), the tree of takes on the
detail page, History's originals, the create page's last frame, and other users' 404s."""

from __future__ import annotations

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from generations.failures import FailureReason
from generations.models import Generation, Status
from generations.selectors import TREE_WIDTH
from tests.factories import clip_bytes, make_generation, png_bytes
from tests.pages import HX

pytestmark = pytest.mark.django_db

REGION = {
    "model_key": "vace-14B",
    "resolution": "480p",
    "prompt": "A red balloon floating in the corner",
    "mask_x": "0",
    "mask_y": "0",
    "mask_width": "0.5",
    "mask_height": "1",
}


def source_of(user, **fields) -> Generation:
    return make_generation(user, video=clip_bytes(2.0, (320, 240)), **fields)


def take_of(source: Generation, **fields) -> Generation:
    return make_generation(
        source.user,
        model_key="edit-2.7",
        resolution="720p",
        operation="edit",
        parent=source,
        input_video="sources/x.mp4",
        charged=False,
        **fields,
    )


def test_a_finished_video_offers_edit_and_the_page_offers_each_operation(logged_in, user):
    source = source_of(user)
    detail = logged_in.get(reverse("detail", args=[source.pk])).content.decode()
    assert reverse("edit-start", args=[source.pk]) in detail

    page = logged_in.get(reverse("edit", args=[source.pk, "region"])).content.decode()
    for operation in ("edit", "animate", "replace", "region"):
        assert f'href="{reverse("edit", args=[source.pk, operation])}"' in page
    assert 'aria-current="page">Change a region' in page
    assert 'name="mask_width"' in page
    assert "Wan VACE 14B region edit" in page
    assert "Wan 2.7 video edit" not in page  # only the chosen operation's models
    assert 'id="edit-costs"' in page


def test_a_region_edit_is_a_take_with_the_box_as_its_mask(logged_in, user, replicate_api):
    source = source_of(user)
    response = logged_in.post(reverse("edit", args=[source.pk, "region"]), REGION)

    take = Generation.objects.get(parent=source)
    assert response.status_code == 302
    assert response["Location"] == reverse("detail", args=[take.pk])
    assert (take.operation, take.model_key, take.cost) == ("region", "vace-14B", 40)
    with take.input_mask.open("rb") as mask, av.open(mask) as container:
        frame = next(container.decode(video=0)).to_image().convert("L")
    width, height = frame.size
    assert luma(frame, (width // 4, height // 2)) > 200  # inside the box: white
    assert luma(frame, (3 * width // 4, height // 2)) < 50


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mask_width": ""}, "Draw the region to change on the first frame."),
        ({"mask_x": "0.8"}, "The region must stay inside the frame."),
        ({"mask_width": "2"}, "Ensure this value is less than or equal to 1."),
        ({"prompt": "ab"}, "The prompt must be"),
        ({"model_key": "edit-2.7"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_a_form_error_and_makes_no_take(logged_in, user, changes, message):
    source = source_of(user)
    response = logged_in.post(reverse("edit", args=[source.pk, "region"]), REGION | changes)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Generation.objects.filter(parent=source).exists()


def test_a_region_edit_takes_an_uploaded_mask_video_instead_of_a_box(
    logged_in, user, replicate_api
):
    source = source_of(user)
    no_box = {name: "" for name in ("mask_x", "mask_y", "mask_width", "mask_height")}

    def mask() -> SimpleUploadedFile:
        return SimpleUploadedFile("mask.mp4", clip_bytes(2.0, (320, 240)), "video/mp4")

    url = reverse("edit", args=[source.pk, "region"])
    both = logged_in.post(url, REGION | {"mask": mask()})
    assert both.status_code == 422
    assert "Draw a region or upload a mask video, not both." in both.content.decode()

    response = logged_in.post(url, REGION | no_box | {"mask": mask()})
    assert response.status_code == 302, response.content.decode()
    assert Generation.objects.get(parent=source).input_mask


def test_a_source_the_model_refuses_is_a_message_above_the_form(logged_in, user):
    small = make_generation(user, video=clip_bytes(2.0, (128, 96)))
    response = logged_in.post(reverse("edit", args=[small.pk, "region"]), REGION)
    page = response.content.decode()
    assert response.status_code == 422
    assert "The source video must be at least 240 pixels on each side." in page
    assert "The take was not started: check the highlighted fields." in page


def test_an_uploaded_clip_is_edited_without_a_source(logged_in, user, replicate_api):
    clip = SimpleUploadedFile("clip.mp4", clip_bytes(3.0), content_type="video/mp4")
    page = logged_in.get(reverse("edit-clip", args=["edit"])).content.decode()
    assert 'name="video"' in page

    response = logged_in.post(
        reverse("edit-clip", args=["edit"]),
        {"model_key": "edit-2.7", "resolution": "720p", "prompt": "Snow falls", "video": clip},
    )

    take = Generation.objects.get(user=user)
    assert response.status_code == 302, response.content.decode()
    assert (take.operation, take.parent, bool(take.input_video)) == ("edit", None, True)


def test_someone_elses_video_and_unknown_operations_are_404(logged_in, user, make_user):
    theirs = source_of(make_user())
    mine = source_of(user)
    assert logged_in.get(reverse("edit", args=[theirs.pk, "edit"])).status_code == 404
    assert logged_in.post(reverse("edit", args=[theirs.pk, "region"]), REGION).status_code == 404
    assert logged_in.get(reverse("edit", args=[mine.pk, "create"])).status_code == 404
    assert logged_in.get(reverse("edit", args=[mine.pk, "nonsense"])).status_code == 404
    assert not Generation.objects.filter(parent=theirs).exists()


def test_an_unfinished_video_cannot_be_edited(logged_in, user):
    running = make_generation(user, status=Status.PROCESSING)
    response = logged_in.get(reverse("edit", args=[running.pk, "edit"]))
    assert response["Location"] == reverse("detail", args=[running.pk])


def test_the_detail_page_shows_the_source_and_its_takes_as_a_tree(logged_in, user):
    source = source_of(user)
    first, second = take_of(source), take_of(source)
    grandchild = take_of(first)

    page = logged_in.get(reverse("detail", args=[first.pk])).content.decode()

    for generation in (source, first, second, grandchild):
        assert f'data-testid="take-{generation.pk}"' in page
    assert f'<div class="take" aria-current="true" data-testid="take-{first.pk}"' in page
    assert page.index(f"take-{source.pk}") < page.index(f"take-{first.pk}")
    assert page.index(f"take-{first.pk}") < page.index(f"take-{grandchild.pk}")
    assert "Source deleted" not in page
    # Remix of a take goes back to its source's edit page by its operation.
    assert f"{reverse('edit', args=[source.pk, 'edit'])}?remix={first.pk}" in page


def test_a_take_whose_source_was_deleted_says_so(logged_in, user):
    source = source_of(user)
    take = take_of(source)
    Generation.objects.filter(pk=source.pk).update(deleted_at=take.created_at)
    page = logged_in.get(reverse("detail", args=[take.pk])).content.decode()
    assert "Source deleted" in page
    assert f"take-{source.pk}" not in page


def test_a_take_of_an_uploaded_clip_names_its_operation_and_source(logged_in, user):
    take = make_generation(
        user, model_key="edit-2.7", resolution="720p", operation="edit", input_video="s/x.mp4"
    )
    page = logged_in.get(reverse("detail", args=[take.pk])).content.decode()
    assert "<dt>Operation</dt><dd>Edit by instruction</dd>" in page
    assert "An uploaded clip" in page
    assert "Source deleted" not in page and 'data-testid="takes"' not in page


def test_retry_of_a_failed_take_keeps_its_operation_and_source(logged_in, user, replicate_api):
    source = source_of(user)
    logged_in.post(reverse("edit", args=[source.pk, "region"]), REGION)
    take = Generation.objects.get(parent=source)
    Generation.objects.filter(pk=take.pk).update(
        status=Status.FAILED,
        failure_reason=FailureReason.PROVIDER_ERROR,
        completed_at=take.created_at,
    )

    response = logged_in.post(reverse("retry", args=[take.pk]))

    retried = Generation.objects.get(retried_from=take)
    assert response.status_code == 302
    assert (retried.operation, retried.parent, retried.model_key) == ("region", source, "vace-14B")
    assert retried.input_mask and retried.input_video


def test_remix_of_a_take_prefills_its_parameters(logged_in, user):
    source = source_of(user)
    take = take_of(source, prompt="Make it a snowy evening", options={"audio_setting": "origin"})
    page = logged_in.get(
        f"{reverse('edit', args=[source.pk, 'edit'])}?remix={take.pk}"
    ).content.decode()
    assert "Make it a snowy evening" in page
    assert '<option value="origin" selected>' in page


def test_history_shows_only_originals_with_their_take_counts_in_constant_queries(logged_in, user):
    source = source_of(user)
    take = take_of(source)
    take_of(source)
    deleted = take_of(source)
    Generation.objects.filter(pk=deleted.pk).update(deleted_at=deleted.created_at)

    def history(query: str) -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            page = logged_in.get(reverse("history") + query).content.decode()
        return page, len(queries)

    everything, _ = history("?per_page=24")
    originals, few = history("?originals=1&per_page=24")
    assert f'id="generation-{take.pk}"' in everything
    assert f'id="generation-{take.pk}"' not in originals
    assert 'data-testid="take-count">2 takes<' in originals
    assert 'name="originals" value="1" checked' in originals

    for _ in range(19):
        take_of(source_of(user, charged=False))
    _, many = history("?originals=1&per_page=24")
    print(f"history (originals) SQL queries: {few} at 1 original, {many} at 20")
    assert many == few


def luma(picture: Image.Image, at: tuple[int, int]) -> int:
    value = picture.getpixel(at)
    assert isinstance(value, int)
    return value


def test_the_create_page_takes_a_last_frame_for_the_models_that_take_one(
    logged_in, user, replicate_api
):
    def image() -> SimpleUploadedFile:
        return SimpleUploadedFile("end.png", png_bytes(), content_type="image/png")

    form = {
        "kind": "i2v",
        "resolution": "480p",
        "aspect_ratio": "16:9",
        "prompt": "The tide comes in and covers the sand",
        "image": image(),
        "end_image": image(),
    }
    page = logged_in.get(reverse("create")).content.decode()
    assert "<div data-takes-end-image hidden>" in page  # the default model takes none

    refused = logged_in.post(reverse("create"), form | {"model_key": "i2v-14B"})
    assert "takes no end image." in refused.content.decode()

    form |= {"image": image(), "end_image": image(), "model_key": "i2v-2.2-fast"}
    assert logged_in.post(reverse("create"), form).status_code == 302
    assert Generation.objects.get(user=user, model_key="i2v-2.2-fast").input_end_image


def test_htmx_errors_answer_the_form_alone(logged_in, user):
    source = source_of(user)
    response = logged_in.post(
        reverse("edit", args=[source.pk, "region"]), REGION | {"mask_width": ""}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="edit-form"')
    assert "The take was not started" in body  # the toast, out of band


def test_remix_of_someone_elses_take_is_an_empty_form(logged_in, user, make_user):
    source = source_of(user)
    theirs = take_of(source_of(make_user()), prompt="Their secret instruction")
    page = logged_in.get(
        f"{reverse('edit', args=[source.pk, 'edit'])}?remix={theirs.pk}"
    ).content.decode()
    assert "Their secret instruction" not in page


def test_the_tree_shows_at_most_its_width_of_takes_a_level(logged_in, user):
    source = source_of(user)
    takes = [take_of(source) for _ in range(TREE_WIDTH + 1)]
    page = logged_in.get(reverse("detail", args=[source.pk])).content.decode()
    assert f"take-{takes[-1].pk}" in page
    assert f"take-{takes[0].pk}" not in page  # the oldest, past the width
