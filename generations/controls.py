"""Advanced settings: what a model lets a user tune, under our name and its Replicate input name.

Each catalog model lists the controls it has with their ranges (from MODELS.md); a control it does
not list is refused, so nothing reaches a model that it does not take. A value left empty is not
stored and not sent: the model's own default applies, unless the control is always sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

Kind = Literal["integer", "number", "choice", "boolean", "url"]
Value = int | float | str | bool

# Labels and help, shared by every model that has the control (the ranges are per model).
LABELS: dict[str, str] = {
    "frame_num": "Clip length (frames)",
    "duration": "Clip length (seconds)",
    "prompt_expansion": "Prompt expansion",
    "fast_mode": "Fast mode",
    "go_fast": "Fast mode",
    "sample_steps": "Sampling steps",
    "guidance_scale": "Guidance scale",
    "shift": "Shift",
    "lora_weights": "LoRA weights",
    "lora_scale": "LoRA scale",
    "audio_setting": "Sound",
    "merge_audio": "Keep the source's sound",
}
HELP: dict[str, str] = {
    "frame_num": "Frames at 16 per second: 81 is about five seconds.",
    "duration": "A longer clip costs more.",
    "prompt_expansion": "Let the model rewrite the prompt in more detail first.",
    "fast_mode": "Faster runs at some cost in quality.",
    "go_fast": "Faster runs at some cost in quality.",
    "sample_steps": "More steps: finer detail, slower.",
    "guidance_scale": "How closely the video follows the prompt.",
    "shift": "Sampling shift: higher values favour motion over detail.",
    "lora_weights": "An https link to a Hugging Face, CivitAI or .safetensors LoRA.",
    "lora_scale": "How strongly the LoRA applies.",
    "audio_setting": "origin keeps the source's sound; auto lets the model redo it.",
    "merge_audio": "Put the source video's sound on the result.",
}
LORA_HOSTS = ("huggingface.co", "civitai.com")
URL_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Control:
    name: str  # ours: the form field, the API field and the key in Generation.options
    input_name: str  # the Replicate model's
    kind: Kind
    default: Value | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Value, ...] = ()
    always_sent: bool = False  # sent at its default too (the clip length decides the video)

    def clean(self, value: Any) -> Value:
        """The value as stored and sent; ValueError with a sentence a user can act on."""
        label = LABELS[self.name]
        if self.kind == "url":
            return _lora_url(value)
        if self.kind == "boolean":
            # Forms send text; JSON sends true or false.
            if value in (True, "true", "True"):
                return True
            if value in (False, "false", "False"):
                return False
            raise ValueError(f"{label} must be true or false.")
        if self.kind == "choice":
            for choice in self.choices:
                if value == choice or (isinstance(value, str) and value == str(choice)):
                    return choice
            raise ValueError(f"{label} must be one of {', '.join(map(str, self.choices))}.")
        number = _number(value, integer=self.kind == "integer")
        if number is None:
            raise ValueError(
                f"{label} must be {'a whole number' if self.kind == 'integer' else 'a number'}."
            )
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValueError(
                f"{label} must be between {_show(self.minimum)} and {_show(self.maximum)}."
            )
        return number

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": [True, False] if self.kind == "boolean" else list(self.choices),
        }


def clean_options(
    controls: Iterable[Control], options: Mapping[str, Any], model_label: str
) -> tuple[dict[str, Value], dict[str, list[str]]]:
    """The options a model takes, cleaned, and field errors for the rest."""
    by_name = {control.name: control for control in controls}
    cleaned: dict[str, Value] = {}
    errors: dict[str, list[str]] = {}
    for name, value in options.items():
        if value is None or value == "":
            continue
        control = by_name.get(name)
        if control is None:
            label = LABELS.get(name, name)
            errors[name] = [f"{model_label} has no {label.lower()} setting."]
            continue
        try:
            cleaned[name] = control.clean(value)
        except ValueError as error:
            errors[name] = [str(error)]
    return cleaned, errors


def replicate_inputs(controls: Iterable[Control], options: Mapping[str, Value]) -> dict[str, Value]:
    """The options under the model's input names; unset ones are left to the model."""
    sent: dict[str, Value] = {}
    for control in controls:
        value = options.get(control.name, control.default if control.always_sent else None)
        if value is not None:
            sent[control.input_name] = value
    return sent


def _number(value: Any, *, integer: bool) -> int | float | None:
    # bool is an int to Python, not a number to a user; text comes from forms.
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value:  # NaN
        return None
    if integer:
        return int(value) if float(value).is_integer() else None
    return float(value)


def _lora_url(value: Any) -> str:
    message = "LoRA weights must be an https link to Hugging Face, CivitAI or a .safetensors file."
    if not isinstance(value, str) or len(value) > URL_MAX_LENGTH:
        raise ValueError(message)
    url = value.strip()
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    known_host = any(host == known or host.endswith("." + known) for known in LORA_HOSTS)
    if (
        parts.scheme != "https"
        or not host
        or not (known_host or parts.path.lower().endswith(".safetensors"))
    ):
        raise ValueError(message)
    return url


def _show(number: float | None) -> str:
    return f"{number:g}" if number is not None else ""


def described(controls: Iterable[Control], options: Mapping[str, Value]) -> list[tuple[str, str]]:
    """Each control's label and the value used, for people: the model's default when unset."""
    rows = []
    for control in controls:
        value = options.get(control.name)
        if value is not None:
            shown = str(value)
        elif control.default is not None:
            shown = f"Default ({control.default})"
        else:
            shown = "None"
        rows.append((LABELS[control.name], shown))
    return rows
