"""Reads for the pages: each returns one query, whatever the number of rows it covers."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from credits.models import CreditTransaction, TransactionType
from generations.models import Generation, Status


def _with_refund_flag(generations: QuerySet[Generation]) -> QuerySet[Generation]:
    # A subquery, not a prefetch: the history page stays one query however long the page is.
    refunds = CreditTransaction.objects.filter(
        generation=OuterRef("pk"), type=TransactionType.REFUND
    )
    return generations.annotate(refunded=Exists(refunds))


def history_of(user, *, status: str = "", starred: bool = False) -> QuerySet[Generation]:
    """The user's generations, newest first, optionally filtered by status and star."""
    generations = Generation.objects.owned_by(user)
    if status in Status.values:
        generations = generations.filter(status=status)
    if starred:
        generations = generations.filter(starred=True)
    return _with_refund_flag(generations).order_by("-created_at", "-id")


def generation_of(user, pk: int) -> Generation:
    """One of the user's generations, or 404: other users' generations do not exist for them."""
    return get_object_or_404(_with_refund_flag(Generation.objects.owned_by(user)), pk=pk)


def selected_generations(user, ids: list[int]) -> QuerySet[Generation]:
    return Generation.objects.owned_by(user).filter(pk__in=ids).order_by("-created_at", "-id")


def shared_generation(token: str) -> Generation:
    """A generation shared publicly by its token; 404 once revoked, deleted or not playable."""
    return get_object_or_404(
        Generation.objects.visible().filter(status=Status.SUCCEEDED).exclude(video=""),
        share_token=token,
    )


def credit_entries_of(generation: Generation) -> list[CreditTransaction]:
    """The charge and, when there is one, the refund of a generation."""
    return list(
        CreditTransaction.objects.filter(generation=generation).order_by("created_at", "id")
    )
