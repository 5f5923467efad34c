from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from wan_pwa.accounts.models import API_KEY_NAME_MAX_LENGTH
from wan_pwa.accounts.suspension import SUSPENDED_MESSAGE


class LoginForm(AuthenticationForm):
    """Django's log-in form, except that the right password of a suspended account says so
    instead of "wrong password": they would otherwise reset a password that is not the problem.
    Only the account's own password reveals its state."""

    def get_invalid_login_error(self) -> forms.ValidationError:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is not None and not user.is_active and user.check_password(password or ""):
            return forms.ValidationError(SUSPENDED_MESSAGE, code="inactive")
        return super().get_invalid_login_error()


class SignUpForm(BaseUserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets. Never shared.")

    # The stubs leave out the Meta that Django's user forms define.
    class Meta(BaseUserCreationForm.Meta):  # type: ignore[name-defined]
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def save(self, commit: bool = True):
        # Through the manager, which announces the new user inside its creating transaction.
        return get_user_model().objects.create_user(
            username=self.cleaned_data["username"],
            email=self.cleaned_data["email"],
            password=self.cleaned_data["password1"],
        )


class ProfileForm(forms.ModelForm):
    email = forms.EmailField(required=True, help_text="For password resets. Never shared.")

    class Meta:
        model = get_user_model()
        fields = ("first_name", "last_name", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        taken = get_user_model().objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another account already uses this email address.")
        return email


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
