"""The box of a region edit as a page's form sends it: one JSON object in a hidden input, cleaned
into the box GenerationParams renders into the mask video."""

from __future__ import annotations

import pytest
from django import forms

from generations.actions.params import GenerationParams
from generations.mask_box_field import MALFORMED, MaskBoxField
from generations.masks import MaskBox
from tests.factories import clip_bytes, make_generation

pytestmark = pytest.mark.django_db


class RegionForm(forms.Form):
    mask_box = MaskBoxField(required=False)


def cleaned(value: str) -> MaskBox | None:
    form = RegionForm({"mask_box": value})
    assert form.is_valid(), form.errors
    return form.cleaned_data["mask_box"]


def test_a_drawn_box_is_cleaned_into_the_mask_of_the_source(user):
    box = cleaned('{"x": 0.1, "y": 0.2, "width": 0.5, "height": 0.5}')
    source = make_generation(user, video=clip_bytes(2.0))
    params = GenerationParams(
        model_key="vace-14B",
        resolution="480p",
        aspect_ratio="16:9",
        prompt="A red balloon floats in the sky",
        operation="region",
        parent=source,
        mask_box=box,
    ).clean()

    assert box == MaskBox(0.1, 0.2, 0.5, 0.5)
    assert params.mask is not None and params.mask_box is None
    params.close_files()


@pytest.mark.parametrize(
    "value",
    [
        "a box",
        "[0.1, 0.2, 0.5, 0.5]",
        '{"x": 0.1, "y": 0.2, "width": 0.5}',
        '{"x": "left", "y": 0.2, "width": 0.5, "height": 0.5}',
        '{"x": 0.1, "y": 0.2, "width": 0.5, "height": 0.5, "colour": "red"}',
    ],
)
def test_anything_but_a_box_is_a_form_error(value):
    form = RegionForm({"mask_box": value})

    assert not form.is_valid()
    assert form.errors == {"mask_box": [MALFORMED]}


def test_no_box_is_none():
    assert cleaned("") is None
