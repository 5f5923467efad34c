"""One Stripe Customer per user, made on first need and reused ever after."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from credits import stripe_gateway
from credits.models import StripeCustomer
from wan_pwa.accounts.models import User


def ensure_stripe_customer(user: User) -> str:
    """The user's Stripe customer id, creating the Customer the first time.

    Race-safe without holding a lock across the call to Stripe: concurrent first calls send the
    same idempotency key, so Stripe makes one Customer and answers both with it, and the primary
    key on the user keeps one row here; the loser of the insert reads the winner's row.
    """
    known = StripeCustomer.objects.filter(user=user).values_list("stripe_customer_id", flat=True)
    if found := known.first():
        return found
    # The address is part of the key: Stripe refuses a key reused with other parameters.
    address = hashlib.sha256(user.email.lower().encode()).hexdigest()[:12]
    customer_id = stripe_gateway.create_customer(
        user_id=user.pk,
        email=user.email,
        idempotency_key=f"customer-{user.pk}-{address}",
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(user=user, stripe_customer_id=customer_id)
    except IntegrityError:
        return StripeCustomer.objects.get(user=user).stripe_customer_id
    return customer_id
