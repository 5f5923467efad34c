"""A local stand-in for the part of Stripe the app uses: Checkout Sessions with a hosted payment
page, refunds, disputes and signed webhooks (`manage.py stripe_simulator`)."""

from .server import StripeSimulator

__all__ = ["StripeSimulator"]
