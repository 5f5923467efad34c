from django.contrib import admin
from django.urls import include, path

from wan_pwa import pwa, views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile/", views.update_profile, name="settings-profile"),
    path("settings/password/", views.change_password, name="settings-password"),
    path("settings/sessions/", views.logout_everywhere, name="settings-logout-everywhere"),
    path("settings/api-keys/", include("wan_pwa.api_key_urls")),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    path("api/webhooks/", include("webhooks.urls")),
    path("api/", include("wan_pwa.api_urls")),
    path("", include("generations.urls")),
]
