"""The API's own views: the page of error codes, and what answers under /api/ when no endpoint
does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from wan_pwa.api.error_codes import ERROR_CODES
from wan_pwa.api.errors import error_envelope


@require_safe
def error_codes(request: HttpRequest) -> HttpResponse:
    """Every error code with its status and meaning; each row's anchor is the code itself."""
    return render(request, "wan_pwa/api_errors.html", {"error_codes": ERROR_CODES})


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
    return JsonResponse(error_envelope({"code": "not_found", "message": message}), status=404)
