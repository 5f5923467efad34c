from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import redirect

from wan_pwa.accounts.models import API_KEY_NAME_MAX_LENGTH, Scope


class SignupForm(AllauthSignupForm):
    def try_save(self, request: HttpRequest):
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            # The same form posted twice at once (a double click): the unique username lets
            # one through, and this one finds the account made.
            messages.info(request, "This account was just created: log in.")
            return None, redirect("account_login")


class ProfileForm(forms.ModelForm):
    """The name. The e-mail address changes on its own page (allauth's), confirmed there."""

    class Meta:
        model = get_user_model()
        fields = ("first_name", "last_name")


class ConfirmPasswordForm(forms.Form):
    """Asks for the current password before an action that affects every session."""

    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=API_KEY_NAME_MAX_LENGTH)
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        error_messages={"required": "Choose at least one thing the key may do."},
    )
    monthly_credit_cap = forms.IntegerField(required=False, min_value=1, max_value=10_000_000)
