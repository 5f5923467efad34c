from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from wan_pwa.accounts.forms import ConfirmPasswordForm, ProfileForm
from wan_pwa.accounts.middleware import SECOND_FACTORS
from wan_pwa.http import AuthenticatedHttpRequest

LEDGER_PAGE_SIZE = 20


def _ledger_page(request: AuthenticatedHttpRequest) -> Page:
    # The credits app's ledger, reached by its reverse relation: accounts import no app.
    ledger = request.user.credit_transactions.select_related("generation")
    return Paginator(ledger, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))


def _settings_page(
    request: AuthenticatedHttpRequest, status: int = 200, **forms: BaseForm
) -> HttpResponse:
    """The whole Settings page, with any bound form (and its errors) in place of a fresh one."""
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(instance=request.user),
        "sessions_form": forms.get("sessions_form") or ConfirmPasswordForm(request.user),
        "ledger": _ledger_page(request),
        "verified_email": EmailAddress.objects.filter(
            user=request.user, email__iexact=request.user.email, verified=True
        ).exists(),
        "has_second_factor": is_mfa_enabled(request.user, SECOND_FACTORS),
    }
    return render(request, "wan_pwa/settings.html", context, status=status)


@login_required
@require_safe
@vary_on_headers("HX-Request", "HX-Target")  # the ledger's pages swap alone
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "ledger":
        return render(request, "wan_pwa/settings.html#ledger", {"ledger": _ledger_page(request)})
    return _settings_page(request)


@login_required
@require_POST
def update_profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("settings")
    request.user.refresh_from_db()  # the header must not show the rejected values
    messages.error(request, "The profile was not saved: check the highlighted fields.")
    return _settings_page(request, status=422, profile_form=form)


@login_required
@require_POST
def logout_everywhere(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Ends every session of the user, this one included.

    Re-hashing the same password gives it a new salt, which changes the session auth hash that
    every session carries, so Django refuses them all on their next request.
    """
    form = ConfirmPasswordForm(request.user, request.POST)
    if not form.is_valid():
        messages.error(request, "You were not logged out: check your password.")
        return _settings_page(request, status=422, sessions_form=form)
    user = request.user
    user.set_password(form.cleaned_data["password"])
    user.save(update_fields=["password"])
    logout(request)
    messages.success(request, "You were logged out of every session, this one included.")
    return redirect("account_login")
