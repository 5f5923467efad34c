"""The generation pages, their actions and their files."""

from django.urls import path

from generations import files, views
from generations.notifications import views as notification_views

urlpatterns = [
    path("create/", views.create, name="create"),
    # The Notifications section of Settings (its page is wan_pwa.accounts').
    path(
        "settings/notifications/",
        notification_views.preferences,
        name="notification-preferences",
    ),
    path(
        "settings/notifications/push/subscribe/",
        notification_views.push_subscribe,
        name="push-subscribe",
    ),
    path(
        "settings/notifications/push/unsubscribe/",
        notification_views.push_unsubscribe,
        name="push-unsubscribe",
    ),
    path("edit/", views.edit, name="edit-clip-start"),
    path("edit/<str:operation>/", views.edit, name="edit-clip"),
    path("generations/<int:pk>/edit/", views.edit, name="edit-start"),
    path("generations/<int:pk>/edit/<str:operation>/", views.edit, name="edit"),
    path("history/", views.history, name="history"),
    path("history/bulk/", views.history_bulk, name="history-bulk"),
    path("generations/<int:pk>/", views.detail, name="detail"),
    path("generations/<int:pk>/card/", views.generation_card, name="generation-card"),
    path("generations/<int:pk>/star/", views.star, name="star"),
    path("generations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("generations/<int:pk>/retry/", views.retry, name="retry"),
    path("generations/<int:pk>/delete/", views.delete, name="delete"),
    path("generations/<int:pk>/share/", views.share, name="share"),
    path("generations/<int:pk>/share/revoke/", views.revoke_share, name="revoke-share"),
    path("generations/<int:pk>/share/feature/", views.feature_consent, name="feature-consent"),
    path("generations/<int:pk>/files/<str:kind>", files.generation_file, name="generation-file"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("s/<str:token>/<str:kind>", files.shared_file, name="shared-file"),
]
