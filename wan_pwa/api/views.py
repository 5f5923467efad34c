"""The API's own views: what answers under /api/ when no endpoint does."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # it changes nothing, and must answer in JSON rather than the CSRF failure page
def api_not_found(request: HttpRequest, path: str) -> JsonResponse:
    """Unknown URLs under /api/ answer in the API's error shape."""
    message = "There is no API endpoint at this URL."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.view_name != "api:not-found":
            message += f" Did you mean {request.path}/ (with a trailing slash)?"
    return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)
