"""What an API key may do. Every API view says which scope it needs, either for all methods

    required_scope = Scope.CREDITS_READ

or per method, reads apart from writes:

    required_scope = read_write(Scope.GENERATIONS_READ, Scope.GENERATIONS_WRITE)

and `HasScope` (a default permission class, after IsAuthenticated) refuses a key without it:
403 `insufficient_scope` naming `required_scope`. A session (the browser) has every scope. A
view reached with a key that declares nothing is refused: a forgotten declaration fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from wan_pwa.accounts.models import ApiKey, Scope
from wan_pwa.errors import DomainError

if TYPE_CHECKING:  # DRF imports its default permission classes while rest_framework.views loads
    from rest_framework.views import APIView

ScopeDeclaration = str | Mapping[str, str]

__all__ = ["HasScope", "InsufficientScope", "Scope", "read_write", "required_scope"]


def read_write(read: str, write: str) -> dict[str, str]:
    """`read` for GET, HEAD and OPTIONS, `write` for every other method."""
    methods = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
    return {method: read if method in SAFE_METHODS else write for method in methods}


def required_scope(view: APIView, method: str) -> str | None:
    """The scope the view declares for the method; None when it declares none."""
    declared: ScopeDeclaration | None = getattr(view, "required_scope", None)
    if declared is None or isinstance(declared, str):
        return declared
    return declared.get(method.upper())


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    status = 403

    def __init__(self, scope: str | None) -> None:
        if scope is None:
            message = "API keys cannot use this endpoint; sign in on the site instead."
        else:
            message = (
                f"This API key lacks the `{scope}` scope. Create a key with it on the "
                "Settings page (API keys)."
            )
        super().__init__(message)
        self.scope = scope

    def extra(self) -> dict[str, Any]:
        return {"required_scope": self.scope}


class HasScope(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True  # a session, or an open endpoint's anonymous caller
        scope = required_scope(view, request.method or "GET")
        if scope is None or not api_key.allows(scope):
            raise InsufficientScope(scope)
        return True
