from django.urls import path

from webhooks import views

urlpatterns = [
    path("replicate", views.replicate, name="replicate-webhook"),
    path("stripe", views.stripe, name="stripe-webhook"),
]
