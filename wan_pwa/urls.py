from django.contrib import admin
from django.urls import include, path

from wan_pwa import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("settings/api-keys/", include("wan_pwa.api_key_urls")),
    path("api/webhooks/", include("webhooks.urls")),
    path("api/", include("wan_pwa.api_urls")),
    path("", include("generations.urls")),
]
