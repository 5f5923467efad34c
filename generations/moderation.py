"""Safety-checker rejections, said plainly.

A model's safety checker can reject the prompt or the input image before the run, or the video
after it. Replicate reports each as a failed prediction whose `error` says so in the words of
whoever checked: the platform (code E005, "flagged as sensitive"), the model's own checker
("NSFW content detected"), or the provider behind the official Wan 2.5 models ("may contain
inappropriate content", DataInspectionFailed). This module recognizes those, tells which part was
rejected when the words say so, and gives the user one fixed sentence per part. The generation
keeps the part as its failure reason (generations.failures), so the card, the detail page, the
API and the refund line show the sentence, and Retry can tell that the same input would be
rejected again.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Rejected(StrEnum):
    """What the safety checker rejected."""

    PROMPT = "prompt"
    IMAGE = "image"
    INPUT = "input"  # the prompt or the image: the checker did not say which
    OUTPUT = "output"
    UNSAID = "unsaid"  # the input or the video: the checker did not say which


MESSAGES = {
    Rejected.PROMPT: "The model's safety checker rejected the prompt.",
    Rejected.IMAGE: "The model's safety checker rejected the input image.",
    Rejected.INPUT: "The model's safety checker rejected the prompt or the input image.",
    Rejected.OUTPUT: "The model's safety checker rejected the finished video, so it was not kept.",
    Rejected.UNSAID: "The model's safety checker rejected this generation's input or its video.",
}

_REJECTION = re.compile(
    r"nsfw|flagged as sensitive|\(E005\)|inappropriate content|DataInspectionFailed"
    r"|safety check|content policy|unsafe content",
    re.IGNORECASE,
)
_OUTPUT = re.compile(r"\b(?:output|generated|result)", re.IGNORECASE)
_IMAGE = re.compile(r"\bimage", re.IGNORECASE)
_PROMPT = re.compile(r"\b(?:prompt|text)\b", re.IGNORECASE)
_INPUT = re.compile(r"\binput", re.IGNORECASE)
_FIRST_SENTENCE = re.compile(r"^.*?(?:\.\s|$)", re.DOTALL)


def rejection_in(error: str, *, had_image: bool) -> Rejected | None:
    """What Replicate's `error` says the safety checker rejected; None for any other failure.

    Only the first sentence names the part (what follows is advice such as "try a different
    prompt"). An input rejection without an image can only be the prompt.
    """
    if not _REJECTION.search(error):
        return None
    first = _FIRST_SENTENCE.match(error.strip())
    sentence = first.group(0) if first else error
    image, prompt = bool(_IMAGE.search(sentence)), bool(_PROMPT.search(sentence))
    names_input = image or prompt or bool(_INPUT.search(sentence))
    if _OUTPUT.search(sentence):
        return Rejected.UNSAID if names_input else Rejected.OUTPUT
    if not names_input:
        return Rejected.UNSAID
    if not had_image or (prompt and not image):
        return Rejected.PROMPT
    return Rejected.IMAGE if image and not prompt else Rejected.INPUT


def retry_refusal(rejected: Rejected | None, *, fixed_seed: bool) -> str | None:
    """Why retrying the same input would be rejected again; None when a retry may pass.

    The checker judges the input itself, so the same prompt or image fails again. A rejected
    video depends on the seed: a random seed makes a different video, a fixed one the same.
    """
    if rejected is None or (rejected in (Rejected.OUTPUT, Rejected.UNSAID) and not fixed_seed):
        return None
    if rejected in (Rejected.OUTPUT, Rejected.UNSAID):
        return (
            "The safety checker rejected this generation, and a retry would use the same seed "
            "and so make the same video. Remix it with another seed or a different prompt."
        )
    what = {
        Rejected.PROMPT: "prompt",
        Rejected.IMAGE: "input image",
        Rejected.INPUT: "prompt or input image",
    }[rejected]
    return (
        f"The safety checker rejected the {what}, so the same input would be rejected again. "
        f"Remix it with a different {what} instead."
    )
