"""Refusals of generation actions: domain errors carrying the API status they are answered with
(409 for a state that forbids the action, 422 for a request that contradicts an earlier one)."""

from __future__ import annotations

from wan_pwa.errors import DomainError


class GenerationConflict(DomainError):
    """The generation's state forbids the action (it ended, is running, was deleted...)."""

    code = "conflict"
    status = 409


class CannotCancel(GenerationConflict):
    pass


class CannotRefund(GenerationConflict):
    pass


class CannotRetry(GenerationConflict):
    pass


class CannotDelete(GenerationConflict):
    pass


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used for a different request.")


class CannotFeature(GenerationConflict):
    pass
