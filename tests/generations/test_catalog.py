"""The model catalog: the only source of costs, and each model's own input names."""

from __future__ import annotations

from typing import Any

import pytest

from generations import catalog
from tests.pages import ALL_MODEL_KEYS


@pytest.mark.parametrize(
    ("model_key", "resolution", "credits", "replicate_model"),
    [
        ("t2v-1.3B", "480p", 5, "wan-video/wan-2.1-1.3b"),
        ("t2v-14B", "480p", 10, "wavespeedai/wan-2.1-t2v-480p"),
        ("t2v-14B", "720p", 20, "wavespeedai/wan-2.1-t2v-720p"),
        ("i2v-14B", "480p", 10, "wavespeedai/wan-2.1-i2v-480p"),
        ("i2v-14B", "720p", 20, "wavespeedai/wan-2.1-i2v-720p"),
    ],
)
def test_every_offered_combination_has_its_cost_and_replicate_model(
    model_key, resolution, credits, replicate_model
):
    for ratio in catalog.ASPECT_RATIOS:
        variant = catalog.resolve(model_key, resolution, ratio)
        assert (variant.credits, variant.replicate_model) == (credits, replicate_model)
    assert catalog.cost_of(model_key, resolution) == credits
    assert catalog.CHEAPEST_COST == 5


@pytest.mark.parametrize(
    ("model_key", "resolution", "ratio", "message"),
    [
        ("t2v-1.3B", "720p", "16:9", "offers 480p, not '720p'"),
        ("t2v-9B", "480p", "16:9", "Unknown model 't2v-9B'"),
        ("t2v-14B", "1080p", "16:9", "not '1080p'"),
        ("t2v-14B", "480p", "4:3", "Aspect ratio must be one of 16:9, 9:16"),
    ],
)
def test_unknown_combinations_are_refused_with_a_clear_message(
    model_key, resolution, ratio, message
):
    with pytest.raises(catalog.CatalogError, match=message):
        catalog.resolve(model_key, resolution, ratio)


def test_each_replicate_model_gets_its_own_input_names():
    common: dict[str, Any] = {"prompt": "A calm lake at sunrise", "aspect_ratio": "9:16", "seed": 3}
    small = catalog.replicate_input(model_key="t2v-1.3B", resolution="480p", **common)
    large = catalog.replicate_input(
        model_key="t2v-14B", resolution="720p", negative_prompt="blur", **common
    )
    image = catalog.replicate_input(
        model_key="i2v-14B", resolution="480p", image_url="https://x/in.png", **common
    )

    assert small == {**common, "frame_num": 81, "resolution": "480p"}
    assert large == {**common, "negative_prompt": "blur"}
    assert image == {**common, "image": "https://x/in.png"}


def test_the_catalog_as_data_lists_every_model_with_its_prices():
    data = {entry["key"]: entry for entry in catalog.as_dict()}

    assert set(data) == ALL_MODEL_KEYS
    assert data["i2v-14B"]["needs_image"] is True
    assert data["t2v-14B"]["resolutions"] == [
        {"resolution": "480p", "credits": 10},
        {"resolution": "720p", "credits": 20},
    ]
