"""Accounts (allauth: sign-up, log-in, passwords, e-mail addresses, two factors), Settings and
its API keys; mounted at / by wan_pwa.urls."""

from django.urls import include, path, re_path
from django.views.generic import RedirectView

from wan_pwa.accounts import account_data_views, api_key_views, views

api_key_patterns = (
    [
        path("", api_key_views.api_keys, name="list"),
        path("create/", api_key_views.create, name="create"),
        path("<int:pk>/revoke/", api_key_views.revoke, name="revoke"),
    ],
    "api_keys",
)


def moved_to(pattern_name: str):
    """The pages' addresses before allauth, kept working as redirects (bookmarks, old mails)."""
    return RedirectView.as_view(pattern_name=pattern_name, permanent=True, query_string=True)


old_account_urls = [
    path("signup/", moved_to("account_signup")),
    path("accounts/password_change/", moved_to("account_change_password")),
    path("accounts/password_change/done/", moved_to("settings")),
    path("accounts/password_reset/", moved_to("account_reset_password")),
    path("accounts/password_reset/done/", moved_to("account_reset_password_done")),
    # A reset link mailed before allauth: its token is not one allauth accepts, so ask again.
    re_path(r"^accounts/reset/[^/]+/[^/]+/$", moved_to("account_reset_password")),
    path("accounts/reset/done/", moved_to("account_login")),
    path("settings/password/", moved_to("account_change_password")),
]

urlpatterns = [
    *old_account_urls,
    path("accounts/", include("allauth.urls")),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile/", views.update_profile, name="settings-profile"),
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
