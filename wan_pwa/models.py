# Django looks for the app's models here; they live in the accounts, analytics and background
# rooms (and outgoing_webhooks).
# Migration 0001 refers to the manager by this module's path.
from wan_pwa.accounts.models import ApiKey, DataExport, User, WanUserManager  # noqa: F401
from wan_pwa.analytics.models import HourlyCount, RollupCursor  # noqa: F401
from wan_pwa.background.models import MetricCounter, PeriodicJobRun, WorkerHeartbeat  # noqa: F401
from wan_pwa.outgoing_webhooks.models import (  # noqa: F401
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSigningSecret,
)
