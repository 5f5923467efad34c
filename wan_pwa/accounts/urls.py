"""Sign-up, log-in and password pages, Settings and its API keys; mounted at / by wan_pwa.urls."""

from django.contrib.auth.views import LoginView
from django.urls import include, path

from wan_pwa.accounts import account_data_views, api_key_views, views
from wan_pwa.accounts.forms import LoginForm

api_key_patterns = (
    [
        path("", api_key_views.api_keys, name="list"),
        path("create/", api_key_views.create, name="create"),
        path("<int:pk>/revoke/", api_key_views.revoke, name="revoke"),
    ],
    "api_keys",
)

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    # Before Django's own auth URLs, so this log-in (with its form) is the one resolved.
    path("accounts/login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile/", views.update_profile, name="settings-profile"),
    path("settings/password/", views.change_password, name="settings-password"),
    path("settings/sessions/", views.logout_everywhere, name="settings-logout-everywhere"),
    path("settings/api-keys/", include(api_key_patterns)),
    path("settings/data-export/", account_data_views.request_export, name="data-export"),
    path("settings/delete/", account_data_views.delete_account_page, name="delete-account"),
    path(
        "settings/data-export/<int:pk>/",
        account_data_views.download_export,
        name="data-export-download",
    ),
]
