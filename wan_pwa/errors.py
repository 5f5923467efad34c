"""The one base class of domain errors: a refusal a user can act on, with a sentence, a stable
code and the HTTP status the API answers it with. The API's error handler reads these members,
so it needs to know no app's exceptions."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Seconds after which the same request may succeed (the Retry-After header).
        self.retry_after = None if retry_after is None else max(1, int(retry_after))

    def extra(self) -> dict[str, Any]:
        """Members added to the API's error object besides code and message."""
        return {}
