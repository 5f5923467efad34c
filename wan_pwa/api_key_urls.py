"""Mounted at /settings/api-keys/ by wan_pwa.urls."""

from django.urls import path

from wan_pwa import api_key_views

app_name = "api_keys"

urlpatterns = [
    path("", api_key_views.api_keys, name="list"),
    path("create/", api_key_views.create, name="create"),
    path("<int:pk>/revoke/", api_key_views.revoke, name="revoke"),
]
