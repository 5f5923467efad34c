from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Page, Paginator
from django.db import IntegrityError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from wan_pwa.accounts.forms import ConfirmPasswordForm, ProfileForm, SignUpForm
from wan_pwa.accounts.models import User
from wan_pwa.http import AuthenticatedHttpRequest

LEDGER_PAGE_SIZE = 20


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except IntegrityError:
            # The same form posted twice at once: the unique username/email lets one through.
            form.add_error(None, "This account was just created; log in instead.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user.username}! You have {settings.SIGNUP_BONUS_CREDITS} free credits.",
            )
            # Where the visitor was going (the home page's "Remix this"); never another site.
            target = request.GET.get("next", "")
            if url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(target)
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


def _ledger_page(request: AuthenticatedHttpRequest) -> Page:
    # The credits app's ledger, reached by its reverse relation: accounts import no app.
    ledger = request.user.credit_transactions.select_related("generation")
    return Paginator(ledger, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))


def _password_form(user: User, data: QueryDict | None = None) -> PasswordChangeForm:
    form = PasswordChangeForm(user, data)
    # One form among several on the Settings page: it must not grab the focus and scroll to it.
    form.fields["old_password"].widget.attrs.pop("autofocus", None)
    return form


def _settings_page(
    request: AuthenticatedHttpRequest, status: int = 200, **forms: BaseForm
) -> HttpResponse:
    """The whole Settings page, with any bound form (and its errors) in place of a fresh one."""
    context = {
        "profile_form": forms.get("profile_form") or ProfileForm(instance=request.user),
        "password_form": forms.get("password_form") or _password_form(request.user),
        "sessions_form": forms.get("sessions_form") or ConfirmPasswordForm(request.user),
        "ledger": _ledger_page(request),
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
def change_password(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = _password_form(request.user, request.POST)
    if form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # stay logged in here; other sessions end
        messages.success(request, "Password changed. Other sessions were logged out.")
        return redirect("settings")
    messages.error(request, "The password was not changed: check the highlighted fields.")
    return _settings_page(request, status=422, password_form=form)


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
    return redirect("login")
