"""REST API for a user's credits: the balance, the ledger, the packs on sale and checkout.
Credits change only through credits.actions."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credits import auto_refill, buckets
from credits.actions import purchasable_packs, start_checkout
from credits.models import CreditTransaction
from credits.selectors import balance_of
from credits.serializers import (
    AutoRefillSerializer,
    BalanceSerializer,
    CheckoutRequestSerializer,
    CheckoutSerializer,
    CreditPackSerializer,
    LedgerEntrySerializer,
    PlanSerializer,
    SubscribeRequestSerializer,
    SubscribeSerializer,
)
from credits.subscriptions import available_plans, live_subscription, subscribe
from credits.views import checkout_urls, plan_urls
from wan_pwa.api.authentication import authenticated_user
from wan_pwa.api.pagination import NewestFirstPagination
from wan_pwa.api.schema import ErrorSerializer, error_responses, example_error
from wan_pwa.api.scopes import Scope


class BalanceView(APIView):
    required_scope = Scope.CREDITS_READ
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
                value={
                    "balance": 1085,
                    "low": False,
                    "cheapest_generation_cost": 5,
                    "buckets": [
                        {
                            "credits": 1000,
                            "expires_at": "2027-01-05T00:00:00Z",
                            "source": "plan",
                        },
                        {"credits": 85, "expires_at": None, "source": "bonus"},
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        cheapest = self.cheapest_generation_cost
        if cheapest is None:
            raise ImproperlyConfigured(
                "Mount BalanceView with as_view(cheapest_generation_cost=...)."
            )
        user = authenticated_user(request)
        balance = balance_of(user)
        data = {
            "balance": balance,
            "low": balance < cheapest,
            "cheapest_generation_cost": cheapest,
            "buckets": buckets.holding(user.pk),
            "subscription": live_subscription(user),
        }
        return Response(BalanceSerializer(data).data)


class LedgerView(generics.ListAPIView):
    required_scope = Scope.CREDITS_READ
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


class CreditPackListView(generics.ListAPIView):
    required_scope = Scope.CREDITS_READ
    serializer_class = CreditPackSerializer
    pagination_class = None

    def get_queryset(self):
        return purchasable_packs()

    @extend_schema(
        operation_id="credits_packs",
        summary="Credit packs on sale",
        description="Buy one with POST /api/v1/credits/checkout/.",
        responses={200: CreditPackSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class CheckoutView(APIView):
    required_scope = Scope.BILLING

    @extend_schema(
        operation_id="credits_checkout",
        summary="Buy a credit pack",
        description=(
            "Creates an order and a Stripe Checkout Session for the pack (201); open "
            "`checkout_url` to pay. While you have an order for the same pack whose session is "
            "still open, that order and URL come back instead (200). At most "
            "MAX_OPEN_CHECKOUTS orders (3 by default) await payment at once; beyond, 429 "
            "`too_many_open_checkouts`. The credits are added when Stripe confirms the payment "
            "(watch GET /api/v1/credits/)."
        ),
        request=CheckoutRequestSerializer,
        responses={
            201: CheckoutSerializer,
            200: OpenApiResponse(
                CheckoutSerializer, description="Your open order for this pack, reused."
            ),
            **error_responses(400, 401),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many orders await payment; pay or cancel one first.",
                examples=[
                    OpenApiExample(
                        "too_many_open_checkouts",
                        value=example_error(
                            {
                                "code": "too_many_open_checkouts",
                                "message": (
                                    "You already have 3 checkouts awaiting payment. Pay for one "
                                    "of them or cancel it in Billing before starting another."
                                ),
                            }
                        ),
                        status_codes=[429],
                    )
                ],
            ),
            503: OpenApiResponse(
                ErrorSerializer,
                description="Stripe could not be reached; nothing was charged.",
                examples=[
                    OpenApiExample(
                        "payments_unavailable",
                        value=example_error(
                            {
                                "code": "payments_unavailable",
                                "message": (
                                    "The payment provider could not be reached. "
                                    "Nothing was charged; please try again in a minute."
                                ),
                            }
                        ),
                        status_codes=[503],
                    )
                ],
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = CheckoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        success_url, cancel_url = checkout_urls()
        checkout = start_checkout(
            authenticated_user(request),
            data.validated_data["pack_id"],
            success_url=success_url,
            cancel_url=cancel_url,
        )
        return Response(
            CheckoutSerializer(checkout.order).data, status=200 if checkout.reused else 201
        )


def _auto_refill_data(user) -> dict[str, object]:
    refill = auto_refill.settings_of(user)
    return {
        "enabled": refill.enabled,
        "threshold": refill.threshold,
        "pack_id": refill.pack_id,
        "monthly_max": refill.monthly_max,
        "card": refill.card_label or None,
        "refills_this_month": auto_refill.refills_this_month(user.pk),
        "stopped_reason": refill.stopped_reason,
    }


class AutoRefillView(APIView):
    required_scope = Scope.BILLING

    @extend_schema(
        operation_id="credits_auto_refill",
        summary="Your auto-refill settings",
        responses={200: AutoRefillSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(AutoRefillSerializer(_auto_refill_data(authenticated_user(request))).data)

    @extend_schema(
        operation_id="credits_auto_refill_update",
        summary="Change your auto-refill settings",
        description=(
            "When your balance falls below `threshold`, the pack `pack_id` is bought with the "
            "card you saved in Billing (Save a card), at most `monthly_max` times a calendar "
            "month, once per fall. Turning it on needs a saved card (400 otherwise). A payment "
            "your bank refuses or wants you present for turns it off (`stopped_reason`)."
        ),
        request=AutoRefillSerializer,
        responses={200: AutoRefillSerializer, **error_responses(400, 401)},
    )
    def put(self, request: Request) -> Response:
        data = AutoRefillSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticated_user(request)
        auto_refill.save_settings(
            user,
            auto_refill.Choice(
                enabled=data.validated_data["enabled"],
                threshold=data.validated_data["threshold"],
                pack_id=data.validated_data["pack_id"],
                monthly_max=data.validated_data["monthly_max"],
            ),
        )
        return Response(AutoRefillSerializer(_auto_refill_data(user)).data)


class PlanListView(generics.ListAPIView):
    required_scope = Scope.CREDITS_READ
    serializer_class = PlanSerializer
    pagination_class = None

    def get_queryset(self):
        return available_plans()

    @extend_schema(
        operation_id="credits_plans",
        summary="Monthly plans on offer",
        description="Subscribe with POST /api/v1/credits/subscribe/.",
        responses={200: PlanSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class SubscribeView(APIView):
    required_scope = Scope.BILLING

    @extend_schema(
        operation_id="credits_subscribe",
        summary="Subscribe to a monthly plan",
        description=(
            "Returns the Stripe Checkout URL where you pay for the plan (one open plan checkout "
            "at a time: asking again for the same plan returns the same URL, another plan "
            "replaces it). If you have a plan already, returns a Customer Portal URL instead "
            "(`to_portal`), where you change or cancel it. The plan's credits are added when "
            "Stripe confirms each month's payment."
        ),
        request=SubscribeRequestSerializer,
        responses={200: SubscribeSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = SubscribeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = subscribe(
            authenticated_user(request), data.validated_data["plan_id"], **plan_urls()
        )
        return Response(
            SubscribeSerializer({"url": result.url, "to_portal": result.to_portal}).data
        )
