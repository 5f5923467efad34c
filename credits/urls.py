"""Billing, mounted under /settings/billing/ by wan_pwa.urls."""

from django.urls import path

from credits import views

urlpatterns = [
    path("", views.billing, name="billing"),
    path("checkout/", views.checkout, name="billing-checkout"),
    path("low-balance/", views.low_balance_settings, name="billing-low-balance"),
    path("auto-refill/", views.auto_refill_settings, name="billing-auto-refill"),
    path("auto-refill/card/", views.save_card, name="billing-save-card"),
    path("subscribe/", views.subscribe_to_plan, name="billing-subscribe"),
    path("plan/", views.manage_plan, name="billing-portal"),
    path("orders/<int:pk>/success/", views.success, name="billing-success"),
    path("orders/<int:pk>/cancel/", views.cancel, name="billing-cancel"),
    path("orders/<int:pk>/receipt/", views.receipt, name="billing-receipt"),
]
