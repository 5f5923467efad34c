"""The Settings page's API keys section: list, create (the key is shown once), revoke.

With HTMX each action answers the section alone (`templates/wan_pwa/api_keys_section.html`);
without it, the same template inside a full page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from wan_pwa.accounts.api_keys import create_api_key, revoke_api_key
from wan_pwa.accounts.forms import ApiKeyForm
from wan_pwa.accounts.models import ApiKey
from wan_pwa.http import AuthenticatedHttpRequest

SECTION_TEMPLATE = "wan_pwa/api_keys_section.html"
PAGE_TEMPLATE = "wan_pwa/api_keys_page.html"


def _render(request: AuthenticatedHttpRequest, context: dict, status: int = 200) -> HttpResponse:
    template = SECTION_TEMPLATE if request.htmx else PAGE_TEMPLATE
    return render(request, template, context, status=status)


@require_GET
@login_required
@vary_on_headers("HX-Request")  # one URL, two answers: the section or the page
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render(request, {})


@require_POST
@login_required
@never_cache  # the answer carries the plaintext key
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            api_key, raw_key = create_api_key(
                request.user,
                form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                monthly_credit_cap=form.cleaned_data["monthly_credit_cap"],
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            context = {"new_key": raw_key, "new_key_name": api_key.name}
            return _render(request, context, status=201)
    # htmx swaps 422 answers (base.html's responseHandling), so both kinds of request get it.
    return _render(request, {"api_key_form": form}, status=422)


@require_POST
@login_required
def revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey.objects.active(), pk=pk, user=request.user)
    revoke_api_key(api_key)
    if request.htmx:
        return _render(request, {})
    return redirect("api_keys:list")
