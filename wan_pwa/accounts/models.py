from __future__ import annotations

import secrets
from typing import Any, ClassVar

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models, transaction

from wan_pwa.accounts.signals import user_created


class WanUserManager(UserManager["User"]):
    """Every user created through the manager is announced with `user_created` inside the
    creating transaction, so what the receivers add (the credit account) exists exactly when the
    user does. (Sign-up goes through allauth, which saves and announces its users itself:
    wan_pwa/accounts/adapter.py.)"""

    def _create_user(
        self, username: str, email: str | None, password: str | None, **extra_fields: Any
    ) -> User:
        with transaction.atomic():
            # The stubs leave out this private method, the one create_user and
            # create_superuser share.
            user = super()._create_user(  # type: ignore[misc]
                username, email, password, **extra_fields
            )
            if user.email:
                # Unverified, as allauth records a sign-up's address: the account (made by
                # createsuperuser or a command) can then verify it from Settings.
                EmailAddress.objects.create(user=user, email=user.email.lower(), primary=True)
            user_created.send(sender=self.model, user=user)
        return user


class User(AbstractUser):
    email = models.EmailField("email address", blank=True)
    # When a generation ends (generations.notifications): e-mail only if asked for; push goes
    # to the devices the user subscribed in Settings.
    notify_by_email = models.BooleanField("e-mail me when a video ends", default=False)
    notify_by_push = models.BooleanField("push to my subscribed devices", default=True)
    # A suspension is `is_active=False` (what Django's log-in, sessions and password resets
    # already honour, and the API's key check) plus who did it, when and why.
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspended_by = models.ForeignKey(
        "self", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    suspension_reason = models.CharField(max_length=200, blank=True, editable=False)
    # Deleted by its owner or staff (accounts.deletion): inactive for good, its personal data
    # erased; the row stays, anonymised, for the ledger and the orders.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[WanUserManager] = WanUserManager()

    class Meta:
        app_label = "wan_pwa"  # the label its migrations and AUTH_USER_MODEL use
        # No unique e-mail here: allauth keeps verified addresses unique (EmailAddress), and a
        # sign-up with an address another account uses must look like any other sign-up
        # (ACCOUNT_PREVENT_ENUMERATION = "strict" in settings).
        constraints = [
            models.CheckConstraint(
                condition=models.Q(suspended_at__isnull=True) | models.Q(is_active=False),
                name="user_suspended_is_inactive",
            ),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(is_active=False),
                name="user_deleted_is_inactive",
            ),
        ]
        permissions = [("erase_user", "Can delete accounts, erasing their personal data")]

    def __str__(self) -> str:
        return self.username

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


API_KEY_NAME_MAX_LENGTH = 100


class Scope(models.TextChoices):
    """What an API key may do; a session (the browser) may do everything."""

    GENERATIONS_READ = "generations:read", "Read generations and download videos"
    GENERATIONS_WRITE = "generations:write", "Create, cancel, retry, star and delete generations"
    CREDITS_READ = "credits:read", "Read the credit balance, ledger and packs"
    BILLING = "billing", "Buy credits"


def all_scopes() -> list[str]:
    return list(Scope.values)


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A key for the REST API. Only a SHA-256 hash of the key is stored: the key has 256 bits of
    randomness, so a fast hash is safe and lets authentication look it up by index."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=API_KEY_NAME_MAX_LENGTH)
    prefix = models.CharField(max_length=16, help_text="The visible start of the key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Keys made before scopes existed got all of them, so they kept working unchanged.
    scopes = models.JSONField(default=all_scopes)
    monthly_credit_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="At most this many credits a calendar month (UTC) in submissions through this "
        "key; empty: no cap beyond the balance.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_key_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def data_export_path(instance: DataExport, filename: str) -> str:
    # Unguessable, like every stored file; reached only through the owner's download view.
    return f"exports/{secrets.token_urlsafe(24)}.zip"


class DataExport(models.Model):
    """A ZIP of everything the site holds about a user, built by a task (build_data_export, in
    accounts/export_archive.py) and kept privately in the storage until `expires_at`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to=data_export_path, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="data_export_user_created")]
        constraints = [
            # One export in progress per user.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="data_export_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready")
                | (~models.Q(file="") & models.Q(expires_at__isnull=False)),
                name="data_export_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"export #{self.pk} of {self.user_id} ({self.status})"
