"""Settings > Developers, webhooks: register endpoints (the secret shown once), disable, rotate,
send a test event, delete; an endpoint's page to change it, read its deliveries and send one
again.

With HTMX each action answers the section alone (`wan_pwa/webhook_endpoints_section.html`) or
the endpoint's deliveries; without it, the same templates inside a full page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from wan_pwa.http import AuthenticatedHttpRequest
from wan_pwa.outgoing_webhooks import actions
from wan_pwa.outgoing_webhooks.forms import EndpointForm
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint, WebhookEvent

SECTION_TEMPLATE = "wan_pwa/webhook_endpoints_section.html"
PAGE_TEMPLATE = "wan_pwa/developers_page.html"
ENDPOINT_TEMPLATE = "wan_pwa/webhook_endpoint.html"
DELIVERIES_PER_PAGE = 20


def _render(request: AuthenticatedHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    template = SECTION_TEMPLATE if request.htmx else PAGE_TEMPLATE
    return render(request, template, context, status=status)


def _own(request: AuthenticatedHttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, user=request.user, subject="")


def _form_errors(form: EndpointForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@require_GET
@login_required
@never_cache  # shows the per-request signing secret
@vary_on_headers("HX-Request")  # one URL, two answers: the section or the page
def developers(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render(request, {})


@require_POST
@login_required
@never_cache  # the answer carries the new endpoint's secret
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = actions.create_endpoint(request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            context = {"new_secret": secret, "secret_endpoint": endpoint}
            return _render(request, context, status=201)
    # htmx swaps 422 answers (base.html's responseHandling), so both kinds of request get it.
    return _render(request, {"endpoint_form": form}, status=422)


@require_POST
@login_required
@never_cache
def act(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the list's buttons: enable, disable, rotate, test or delete."""
    endpoint = _own(request, pk)
    context: dict[str, Any] = {}
    if action == "rotate":
        endpoint, secret = actions.rotate_secret(endpoint)
        context = {"new_secret": secret, "secret_endpoint": endpoint, "rotated": True}
    elif action in ("enable", "disable"):
        actions.update_endpoint(endpoint, enabled=action == "enable")
    elif action == "delete":
        actions.delete_endpoint(endpoint)
    elif action == "test":
        try:
            actions.send_test_event(endpoint)
        except (actions.WebhookRefusal, actions.TooManyTestEvents) as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, f"A test event is on its way to {endpoint.url}.")
    if request.htmx:
        return _render(request, context)
    if context:
        return _render(request, context)
    return redirect("developers:list")


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def endpoint_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The endpoint's settings (POST changes them) and its deliveries, newest first."""
    endpoint = _own(request, pk)
    status = 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = actions.update_endpoint(endpoint, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("developers:endpoint", pk=endpoint.pk)
        status = 422
    else:
        form = EndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "events": endpoint.events,
            }
        )
    events = WebhookEvent.objects.filter(endpoint=endpoint).prefetch_related("deliveries")
    deliveries = Paginator(events, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"endpoint": endpoint, "endpoint_form": form, "deliveries": deliveries}
    template = (
        f"{ENDPOINT_TEMPLATE}#deliveries" if request.htmx and status == 200 else ENDPOINT_TEMPLATE
    )
    return render(request, template, context, status=status)


@require_POST
@login_required
def resend(request: AuthenticatedHttpRequest, pk: int, event_pk: int) -> HttpResponse:
    endpoint = _own(request, pk)
    event = get_object_or_404(WebhookEvent, pk=event_pk, endpoint=endpoint)
    try:
        actions.resend_event(event)
    except actions.WebhookRefusal as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "Sent again: the delivery list shows how it went.")
    return redirect("developers:endpoint", pk=endpoint.pk)
