"""The box of a region edit as a form field: the page draws it on the source's poster and sends
it as one JSON object in fractions of the frame, {"x", "y", "width", "height"} (as the API's
`mask_box`). Whether it fits the source is GenerationParams.clean's (MaskBox.errors)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from generations.masks import MaskBox

MALFORMED = 'Draw a box: {"x", "y", "width", "height"}, each a number from 0 to 1.'


class MaskBoxField(forms.CharField):
    """A JSON object in a (hidden) input, cleaned into a MaskBox; empty is None."""

    widget = forms.HiddenInput

    def to_python(self, value: Any) -> MaskBox | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            found = json.loads(text)
            box = MaskBox(**{name: float(found[name]) for name in ("x", "y", "width", "height")})
        except (ValueError, TypeError, KeyError):
            raise forms.ValidationError(MALFORMED, code="invalid") from None
        if len(found) != 4:
            raise forms.ValidationError(MALFORMED, code="invalid")
        return box
