"""Request types for views: what the middleware adds to a request, spelled out for mypy.

`HtmxHttpRequest` is django-htmx's documented pattern for `request.htmx` (HtmxMiddleware sets
it on every request). `AuthenticatedHttpRequest` is the request a `login_required` view gets:
its user is a `User`, never an `AnonymousUser`. Both only annotate; nothing is checked at run
time.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from wan_pwa.accounts.models import User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User
