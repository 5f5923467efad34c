"""The official Python client for the Wan PWA API.

from wanpwa import WanPWA
client = WanPWA()  # WANPWA_API_KEY, WANPWA_BASE_URL
video = client.generations.create_and_wait(model_key="t2v-14B", prompt="...")
client.generations.download(video.id, "fox.mp4")
"""

from wanpwa import webhooks
from wanpwa._client import AsyncWanPWA, WanPWA
from wanpwa._version import __version__
from wanpwa.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    WanPWAError,
    WebhookVerificationError,
)
from wanpwa.models import (
    AudioLimits,
    AutoRefill,
    Bucket,
    Checkout,
    CreditPack,
    Credits,
    Generation,
    LedgerEntry,
    Model,
    Plan,
    PlanSubscription,
    SourceLimits,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncWanPWA",
    "AudioLimits",
    "AuthenticationError",
    "AutoRefill",
    "Bucket",
    "Checkout",
    "ConflictError",
    "CreditPack",
    "Credits",
    "Generation",
    "InsufficientCreditsError",
    "LedgerEntry",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "PlanSubscription",
    "RateLimitError",
    "ServerError",
    "SourceLimits",
    "Subscription",
    "ValidationError",
    "WaitTimeoutError",
    "WanPWA",
    "WanPWAError",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]
