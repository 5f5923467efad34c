from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models, transaction
from django.db.models.functions import Lower


class WanUserManager(UserManager):
    """Every user created through the manager gets a credit account and the sign-up bonus
    in the same transaction, so a user can never exist without them."""

    def _create_user(self, username, email, password, **extra_fields):
        from credits.actions import open_credit_account

        with transaction.atomic():
            user = super()._create_user(username, email, password, **extra_fields)
            open_credit_account(user)
        return user


class User(AbstractUser):
    email = models.EmailField("email address", blank=True)

    objects = WanUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique_ci",
                violation_error_message="A user with that email address already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.username
