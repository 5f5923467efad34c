"""Site-wide response headers and the extras every HTMX answer carries."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.files.storage import Storage, storages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Everything from our own origin, nothing inline, no CDN. `blob:` lets the create page preview
# a chosen image before it is uploaded; `data:` covers tiny images some browsers inline.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob: {media}",
        "media-src 'self' blob: {media}",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def content_security_policy(storage: Storage) -> str:
    """The policy, letting `<video>` and `<img>` follow the access-checked views' redirects to
    presigned URLs when the files live in object storage (on another origin)."""
    try:
        parts = urlsplit(storage.url("csp-origin"))
    except Exception:  # e.g. no credentials: pages still work, stored media will not show
        logger.exception("cannot presign a URL for the content security policy")
        return CONTENT_SECURITY_POLICY.format(media="").replace(" ;", ";")
    media = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return CONTENT_SECURITY_POLICY.format(media=media).replace(" ;", ";")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(storages["default"]))
        return response


# 429 and 503 always say when to come back; this when the refusal named no wait of its own.
RETRY_LATER_STATUSES = (429, 503)
DEFAULT_RETRY_AFTER = 30


class RetryAfterMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in RETRY_LATER_STATUSES:
            response.setdefault("Retry-After", str(DEFAULT_RETRY_AFTER))
        return response


class HtmxExtrasMiddleware:
    """Appends the header balance and pending messages (as toasts) to HTMX answers.

    Out-of-band swaps let any partial update the header and show toasts without each view
    knowing about them. Redirecting answers are left alone: their messages wait for the page
    they lead to. So are answers with an ETag: the browser may reuse their body on a 304, so
    it must be exactly what the validator vouches for. Must come after MessageMiddleware and
    HtmxMiddleware.
    """

    REDIRECT_HEADERS = ("HX-Redirect", "HX-Location", "HX-Refresh")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if (
            htmx
            and not htmx.history_restore_request
            and request.user.is_authenticated
            and not response.streaming
            and response.status_code in (200, 201, 422)
            and response.get("Content-Type", "").startswith("text/html")
            and not any(header in response for header in self.REDIRECT_HEADERS)
            and "ETag" not in response
        ):
            extras = render_to_string("partials/htmx_extras.html", request=request)
            response.content += extras.encode()
        return response
