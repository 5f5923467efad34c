"""REST API representations of a user's credits."""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from credits.models import (
    MAX_REFILLS_PER_MONTH,
    MAX_THRESHOLD,
    CreditBucket,
    CreditPack,
    CreditTransaction,
    Order,
    Plan,
    Subscription,
)


class BucketSerializer(serializers.ModelSerializer):
    credits = serializers.IntegerField(source="remaining", help_text="Credits left in it.")

    class Meta:
        model = CreditBucket
        fields = ["credits", "expires_at", "source"]
        read_only_fields = fields
        extra_kwargs = {
            "expires_at": {"help_text": "When what is left expires; null: never."},
            "source": {
                "help_text": "How the credits came: bonus, purchase, adjustment, reinstate (a "
                "disputed payment given back), refund, opening (the balance held before "
                "buckets), or a plan's."
            },
        }


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "name", "credits", "price", "currency"]
        read_only_fields = fields
        extra_kwargs = {
            "credits": {"help_text": "Granted each month; they expire at the month's end."},
            "price": {"help_text": "A month, in the currency's smallest unit (cents)."},
        }


class PlanSubscriptionSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)

    class Meta:
        model = Subscription
        fields = ["plan", "status", "current_period_end", "cancel_at_period_end"]
        read_only_fields = fields
        extra_kwargs = {
            "current_period_end": {
                "help_text": "When this period's plan credits expire and the plan renews "
                "(or ends, with cancel_at_period_end)."
            },
        }


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Credits available now.")
    low = serializers.BooleanField(help_text="True when it cannot pay for the cheapest model.")
    cheapest_generation_cost = serializers.IntegerField()
    buckets = BucketSerializer(
        many=True,
        help_text="Where the balance is, in the order it is spent: what expires first goes "
        "first. Credits past their expiry leave the balance within minutes.",
    )
    subscription = PlanSubscriptionSerializer(
        allow_null=True, help_text="Your monthly plan, or null without one."
    )


class LedgerEntrySerializer(serializers.ModelSerializer):
    # A generations.Generation: credits import no app above them.
    generation: serializers.PrimaryKeyRelatedField[Model] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The generation charged or refunded, if any."
    )

    class Meta:
        model = CreditTransaction
        fields = [
            "id",
            "amount",
            "type",
            "description",
            "balance_after",
            "generation",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"amount": {"help_text": "Signed: positive adds credits, negative takes."}}


class CreditPackSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditPack
        fields = ["id", "name", "credits", "price", "currency"]
        read_only_fields = fields
        extra_kwargs = {"price": {"help_text": "In the currency's smallest unit (cents)."}}


class CheckoutRequestSerializer(serializers.Serializer):
    pack_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class CheckoutSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(source="pk")
    checkout_url = serializers.URLField(help_text="Send the buyer here to pay on Stripe.")

    class Meta:
        model = Order
        fields = ["order_id", "status", "credits", "amount", "currency", "checkout_url"]
        read_only_fields = fields


class AutoRefillSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    threshold = serializers.IntegerField(
        min_value=1, max_value=MAX_THRESHOLD, help_text="Refill when the balance falls below."
    )
    pack_id = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        allow_null=True,
        help_text="The pack bought each time (null until one is chosen).",
    )
    monthly_max = serializers.IntegerField(
        min_value=1, max_value=MAX_REFILLS_PER_MONTH, help_text="Refills a calendar month."
    )
    card = serializers.CharField(
        read_only=True, allow_null=True, help_text="The saved card, e.g. 'Visa ending 4242'."
    )
    refills_this_month = serializers.IntegerField(read_only=True)
    stopped_reason = serializers.CharField(
        read_only=True, help_text="Why auto-refill turned itself off, if it did."
    )


class SubscribeRequestSerializer(serializers.Serializer):
    plan_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class SubscribeSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Send the user here: Stripe Checkout, or the portal.")
    to_portal = serializers.BooleanField(
        help_text="True when you have a plan already: the Customer Portal changes it."
    )
