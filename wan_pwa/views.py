from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from wan_pwa.forms import SignUpForm


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return render(request, "wan_pwa/dashboard.html")
    return render(request, "wan_pwa/landing.html")


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
            messages.success(request, f"Welcome, {user.username}! You have 100 free credits.")
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
