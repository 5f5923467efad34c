"""REST API for a user's credits: the balance and the ledger. Read-only: credits change only
through credits.actions."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credits.models import CreditTransaction
from credits.selectors import balance_of
from credits.serializers import BalanceSerializer, LedgerEntrySerializer
from wan_pwa.api.authentication import authenticated_user
from wan_pwa.api.pagination import NewestFirstPagination
from wan_pwa.api.schema import error_responses


class BalanceView(APIView):
    # The catalog's cheapest generation, handed in by the URL table (wan_pwa/urls.py) with
    # as_view(): the catalog is the only source of costs, and credits import no app above them.
    cheapest_generation_cost: int | None = None

    @extend_schema(
        operation_id="credits_balance",
        summary="Your credit balance",
        responses={200: BalanceSerializer, **error_responses(401)},
        examples=[
            OpenApiExample(
                "Balance",
                value={"balance": 85, "low": False, "cheapest_generation_cost": 5},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        cheapest = self.cheapest_generation_cost
        if cheapest is None:
            raise ImproperlyConfigured(
                "Mount BalanceView with as_view(cheapest_generation_cost=...)."
            )
        balance = balance_of(authenticated_user(request))
        data = {"balance": balance, "low": balance < cheapest, "cheapest_generation_cost": cheapest}
        return Response(BalanceSerializer(data).data)


class LedgerView(generics.ListAPIView):
    serializer_class = LedgerEntrySerializer
    pagination_class = NewestFirstPagination
    queryset = CreditTransaction.objects.none()  # for the schema; get_queryset scopes to the user

    def get_queryset(self) -> QuerySet[CreditTransaction]:
        # The generation is shown by id only, so no join is needed.
        return CreditTransaction.objects.filter(user=authenticated_user(self.request))

    @extend_schema(
        operation_id="credits_ledger",
        summary="Your credit ledger",
        description="Every change of your balance, newest first, with the balance it left.",
        responses={200: LedgerEntrySerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
