"""REST API authentication with `Authorization: Bearer <key>`; see wan_pwa.accounts.api_keys."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from wan_pwa.accounts.api_keys import find_active_key, record_use
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.accounts.suspension import SUSPENDED_MESSAGE

SCHEME = b"bearer"


class ApiKeyAuthentication(BaseAuthentication):
    """Accepts an active API key; a revoked or unknown key gets a 401, never a fallback."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != SCHEME:
            return None  # not ours: session authentication may still apply
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Send the header as `Authorization: Bearer <key>`, with one key and no spaces."
            )
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("This API key is not valid.") from None
        api_key = find_active_key(raw_key)
        if api_key is None:
            raise AuthenticationFailed("This API key is not valid or has been revoked.")
        if not api_key.user.is_active:
            raise AuthenticationFailed(SUSPENDED_MESSAGE)
        record_use(api_key)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when credentials are missing.
        return 'Bearer realm="api"'


def authenticated_user(request: Request) -> User:
    """The request's user in a view behind IsAuthenticated (the default permission), where it
    is never anonymous; should an anonymous one get through anyway, a 401."""
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key created on the Settings page, sent as `Authorization: Bearer <key>`."
            ),
        }
