"""What the API answers, as typed, read-only objects. Each field is the JSON member of the same
name; times are timezone-aware datetimes. A test of the project compares every class here with
the served OpenAPI description, so a field cannot be added to one without the other."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


@dataclass(frozen=True, kw_only=True)
class APIObject:
    """Base of every model: built from the API's JSON, ignoring members this version of the
    package does not know yet (a newer server stays readable)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        hints = _type_hints(cls)
        known = {field.name for field in fields(cls)}
        return cls(**{name: _convert(hints[name], data[name]) for name in known & data.keys()})


@dataclass(frozen=True, kw_only=True)
class Generation(APIObject):
    id: int
    kind: str
    model_key: str
    resolution: str
    aspect_ratio: str
    prompt: str
    negative_prompt: str
    seed: int | None
    options: dict[str, Any]
    operation: str  # "create", or the take it is of its `parent` ("edit", "extend", ...)
    has_input_image: bool
    has_input_audio: bool
    has_source_video: bool
    parent: int | None  # the source of a take; None for an original
    parent_deleted: bool  # the source was deleted since (the take stays)
    takes: list[int]  # the ids of the takes made from it
    status: str
    progress: int
    error_message: str
    failure_reason: str | None
    rejected: str | None
    retry_refusal: str | None
    cost: int
    starred: bool
    retried_from: int | None
    video_url: str | None
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    duration_seconds: float | None
    eta_seconds: int | None

    @property
    def done(self) -> bool:
        """It has ended: succeeded, failed or canceled (a final status)."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, kw_only=True)
class Bucket(APIObject):
    """Credits of one grant: spent in the order listed, what expires first going first."""

    credits: int
    expires_at: datetime | None  # None: they never expire
    source: str


@dataclass(frozen=True, kw_only=True)
class Credits(APIObject):
    balance: int
    low: bool
    cheapest_generation_cost: int
    buckets: list[Bucket]
    subscription: PlanSubscription | None  # None without a monthly plan


@dataclass(frozen=True, kw_only=True)
class LedgerEntry(APIObject):
    id: int
    amount: int
    type: str
    description: str
    balance_after: int
    generation: int | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class CreditPack(APIObject):
    id: int
    name: str
    credits: int
    price: int  # in the currency's smallest unit (cents)
    currency: str


@dataclass(frozen=True, kw_only=True)
class Plan(APIObject):
    id: int
    name: str
    credits: int  # granted each month; they expire at the month's end
    price: int  # a month, in the currency's smallest unit (cents)
    currency: str


@dataclass(frozen=True, kw_only=True)
class PlanSubscription(APIObject):
    """Your monthly plan: its state, and when its period (and that period's credits) ends."""

    plan: Plan
    status: str  # "active", "past_due", "unpaid", ...
    current_period_end: datetime
    cancel_at_period_end: bool  # it ends, rather than renews, at current_period_end


@dataclass(frozen=True, kw_only=True)
class Subscription(APIObject):
    """Where to send the user: Stripe Checkout for a new plan, or the Customer Portal
    (`to_portal`) to change or cancel the plan they have."""

    url: str
    to_portal: bool


@dataclass(frozen=True, kw_only=True)
class AutoRefill(APIObject):
    """Buy the pack `pack_id` with the saved card when the balance falls below `threshold`, at
    most `monthly_max` times a calendar month."""

    enabled: bool
    threshold: int
    pack_id: int | None  # None until a pack is chosen
    monthly_max: int
    card: str | None  # the saved card, e.g. "Visa ending 4242"
    refills_this_month: int
    stopped_reason: str  # why it turned itself off, if it did


@dataclass(frozen=True, kw_only=True)
class Checkout(APIObject):
    order_id: int
    status: str
    credits: int
    amount: int
    currency: str
    checkout_url: str


@dataclass(frozen=True, kw_only=True)
class Control(APIObject):
    name: str
    kind: str
    default: Any
    minimum: float | None
    maximum: float | None
    choices: list[Any]


@dataclass(frozen=True, kw_only=True)
class Resolution(APIObject):
    resolution: str
    credits: int


@dataclass(frozen=True, kw_only=True)
class SourceLimits(APIObject):
    """What a model accepts as a source video (`video` or `source_generation`)."""

    min_seconds: float
    max_seconds: float
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True, kw_only=True)
class AudioLimits(APIObject):
    """What a model accepts as an audio track (a WAV or MP3)."""

    min_seconds: int
    max_seconds: int
    max_bytes: int


@dataclass(frozen=True, kw_only=True)
class Model(APIObject):
    key: str
    label: str
    kind: str
    needs_image: bool
    takes_audio: bool
    operations: list[str]  # the `operation` values it accepts
    files: dict[str, bool]  # the files it takes (image, end_image, video, ...): whether required
    takes_prompt: bool
    ready: bool  # offered now; a submission to a model turned off is refused
    source_limits: SourceLimits | None  # None: it takes no source video
    audio_limits: AudioLimits | None  # None: it takes no audio track
    unverified: dict[str, str]  # inputs not yet confirmed on Replicate, with how sure we are
    takes_negative_prompt: bool
    priced_by_length: bool
    controls: list[Control]
    aspect_ratios: list[str]
    resolutions: list[Resolution]


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint(APIObject):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    secret: str | None = None  # only in the answers to create and rotate_secret: keep it


@dataclass(frozen=True, kw_only=True)
class WebhookAttempt(APIObject):
    attempt: int
    succeeded: bool
    status_code: int | None
    latency_ms: int | None
    answer: str
    error: str
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True, kw_only=True)
class WebhookDelivery(APIObject):
    """One event sent, or being sent, to an endpoint, with each attempt."""

    id: int
    webhook_id: str
    type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts_log: list[WebhookAttempt]


@dataclass(frozen=True, kw_only=True)
class SigningSecret(APIObject):
    secret: str


@dataclass(frozen=True, kw_only=True)
class WebhookEvent(APIObject):
    """A verified webhook: `type` such as "generation.succeeded", and its `data`."""

    id: str  # the webhook-id header: the same for every attempt of one delivery
    type: str
    timestamp: datetime
    data: dict[str, Any]

    def generation(self) -> Generation:
        """The generation a `generation.*` event carries."""
        return Generation.from_dict(self.data)


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type[APIObject]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(hint, value)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_convert(item, element) for element in value]
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, APIObject):
        return hint.from_dict(value)
    return value
