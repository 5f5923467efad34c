"""REST API representations of a user's credits."""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from credits.models import CreditTransaction


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Credits available now.")
    low = serializers.BooleanField(help_text="True when it cannot pay for the cheapest model.")
    cheapest_generation_cost = serializers.IntegerField()


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
