"""What a generation does with its inputs: create a video from a prompt (and an image), or make a
*take* of a source video: edit it, extend it, animate a character with its motion, replace its
person, make a portrait speak, or change one region of it.

First and last frame is not an operation: it is a control of image-to-video (an end image).
"""

from __future__ import annotations

from django.db import models


class Operation(models.TextChoices):
    CREATE = "create", "Create"
    EDIT = "edit", "Edit by instruction"
    EXTEND = "extend", "Extend"
    ANIMATE = "animate", "Animate a character"
    REPLACE = "replace", "Replace a person"
    SPEAK = "speak", "Talking portrait"
    REGION = "region", "Change a region"


# The operations whose result is made from a source video (a generation of the user's or an
# uploaded clip); a talking portrait starts from an image and a track instead.
NEEDS_SOURCE_VIDEO = frozenset(
    {Operation.EDIT, Operation.EXTEND, Operation.ANIMATE, Operation.REPLACE, Operation.REGION}
)
OPERATION_MAX_LENGTH = 8
