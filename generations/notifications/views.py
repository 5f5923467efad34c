"""The Notifications section of Settings: channels by form, push subscriptions by JSON from
static/js/push.js (the permission prompt needs the user's click)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from generations.notifications import actions
from generations.notifications.forms import PreferencesForm, PushSubscriptionForm
from wan_pwa.http import AuthenticatedHttpRequest

SECTION = "notifications"


@login_required
@require_POST
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST, instance=request.user)
    if form.is_valid():
        actions.set_preferences(
            request.user,
            by_email=form.cleaned_data["notify_by_email"],
            by_push=form.cleaned_data["notify_by_push"],
        )
        messages.success(request, "Notification settings saved.")
    return redirect(f"{reverse('settings')}#{SECTION}")


def _json_body(request: AuthenticatedHttpRequest) -> dict[str, object]:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


@login_required
@require_POST
def push_subscribe(request: AuthenticatedHttpRequest) -> JsonResponse:
    body = _json_body(request)
    keys = body.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    form = PushSubscriptionForm(
        {"endpoint": body.get("endpoint"), "p256dh": keys.get("p256dh"), "auth": keys.get("auth")}
    )
    if not form.is_valid():
        data = form.errors.get_json_data()
        return _refused({name: [e["message"] for e in errors] for name, errors in data.items()})
    try:
        actions.subscribe_push(
            request.user, **form.cleaned_data, user_agent=request.headers.get("User-Agent", "")
        )
    except ValidationError as error:
        return _refused(error.message_dict)
    except actions.EndpointInUse as error:
        return _refused({"endpoint": [error.message]}, status=error.status)
    return JsonResponse({"devices": request.user.push_subscriptions.count()}, status=201)


def _refused(errors: dict[str, list[str]], status: int = 400) -> JsonResponse:
    """The field errors, and the first of them as `message` for the page to show."""
    first = next(iter(errors.values()))[0]
    return JsonResponse({"message": first, "errors": errors}, status=status)


@login_required
@require_POST
def push_unsubscribe(request: AuthenticatedHttpRequest) -> JsonResponse:
    endpoint = _json_body(request).get("endpoint")
    removed = isinstance(endpoint, str) and actions.unsubscribe_push(request.user, endpoint)
    return JsonResponse({"removed": removed, "devices": request.user.push_subscriptions.count()})
