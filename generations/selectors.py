"""Reads for the pages: each returns one query, whatever the number of rows it covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import get_object_or_404

from credits.models import CreditTransaction, TransactionType
from generations.models import Generation, Status
from generations.operations import Operation

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class RefundFlag(TypedDict):
    refunded: bool


# A Generation read through these selectors: it knows whether its charge was given back.
GenerationWithRefundFlag: TypeAlias = "WithAnnotations[Generation, RefundFlag]"


def _with_refund_flag(generations: QuerySet[Generation]) -> QuerySet[GenerationWithRefundFlag]:
    # A subquery, not a prefetch: the history page stays one query however long the page is.
    refunds = CreditTransaction.objects.filter(
        generation=OuterRef("pk"), type=TransactionType.REFUND
    )
    return generations.annotate(refunded=Exists(refunds))


@dataclass(frozen=True)
class GenerationFilters:
    """What a list of generations is narrowed to, on the history page and in the API."""

    status: str = ""  # one of Status.values; "": any
    starred: bool | None = None  # None: starred or not
    originals: bool = False  # only what was created, not the takes made from it

    @classmethod
    def from_page(cls, query: Mapping[str, str]) -> GenerationFilters:
        """The history page's filters (`?status=failed&starred=1`). A value the page never
        sends filters nothing, so a mangled link still shows the history."""
        status = query.get("status", "")
        return cls(
            status=status if status in Status.values else "",
            starred=True if query.get("starred") == "1" else None,
            originals=query.get("originals") == "1",
        )

    @property
    def active(self) -> bool:
        return bool(self.status) or self.starred is not None or self.originals


def history_of(user, filters: GenerationFilters | None = None) -> QuerySet[Generation]:
    """The user's generations, newest first, narrowed by `filters`."""
    filters = filters or GenerationFilters()
    generations = Generation.objects.owned_by(user)
    if filters.status:
        generations = generations.filter(status=filters.status)
    if filters.starred is not None:
        generations = generations.filter(starred=filters.starred)
    if filters.originals:
        generations = generations.filter(operation=Operation.CREATE)
    return _with_refund_flag(generations).order_by("-created_at", "-id")


# A generation lists at most this many of its takes, newest first (each take lists its own).
TAKES_SHOWN = 20


def with_takes(generations: QuerySet[Generation]) -> QuerySet[Generation]:
    """Each generation with its source (to say whether it was deleted) and the ids of its newest
    TAKES_SHOWN takes not deleted: one more query for the whole list, however long."""
    newest_first = [F("created_at").desc(), F("id").desc()]
    rank = Window(RowNumber(), partition_by=[F("parent_id")], order_by=newest_first)
    takes = (
        Generation.objects.visible()
        .annotate(rank=rank)
        .filter(rank__lte=TAKES_SHOWN)
        .only("id", "parent_id")
        .order_by(*newest_first)
    )
    return generations.select_related("parent").prefetch_related(
        Prefetch("takes", queryset=takes, to_attr="shown_takes")
    )


def with_take_counts(generations: QuerySet[Generation]) -> QuerySet[Generation]:
    """Each generation with `take_count`, its takes not deleted: a subquery, not a query a row."""
    takes = (
        Generation.objects.visible()
        .filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return generations.annotate(take_count=Coalesce(Subquery(takes), 0))


def take_ids(generation: Generation) -> list[int]:
    """The ids of the generation's newest TAKES_SHOWN takes not deleted (prefetched by
    with_takes, else read now)."""
    shown = getattr(generation, "shown_takes", None)
    if shown is not None:
        return [take.pk for take in shown]
    newest = generation.takes.visible().order_by("-created_at", "-id")
    return list(newest.values_list("pk", flat=True)[:TAKES_SHOWN])


def generation_of(user, pk: int) -> GenerationWithRefundFlag:
    """One of the user's generations, or 404: other users' generations do not exist for them."""
    return get_object_or_404(_with_refund_flag(Generation.objects.owned_by(user)), pk=pk)


def selected_generations(user, ids: list[int]) -> QuerySet[Generation]:
    return Generation.objects.owned_by(user).filter(pk__in=ids).order_by("-created_at", "-id")


def _public() -> QuerySet[Generation]:
    """What the public may watch: finished, playable, not deleted, and not while its owner's
    account is suspended (it comes back if the account is reactivated)."""
    return (
        Generation.objects.visible()
        .filter(status=Status.SUCCEEDED, user__suspended_at__isnull=True)
        .exclude(video="")
    )


def shared_generation(token: str) -> Generation:
    """A generation shared publicly by its token; 404 once revoked, deleted or not playable, and
    while its owner's account is suspended."""
    return get_object_or_404(_public(), share_token=token)


FEATURED_LIMIT = 6  # a small gallery: each clip is a download on a visitor's phone


def featured_videos() -> list[Generation]:
    """The home page's gallery, newest featured first: only what the constraint lets staff
    feature (shared, allowed by the owner), and only what its share link would show."""
    featured = _public().filter(featured_at__isnull=False)
    return list(
        featured.only(
            "pk", "prompt", "share_token", "poster", "aspect_ratio", "model_key"
        ).order_by("-featured_at")[:FEATURED_LIMIT]
    )


def credit_entries_of(generation: Generation) -> list[CreditTransaction]:
    """The charge and, when there is one, the refund of a generation."""
    return list(
        CreditTransaction.objects.filter(generation=generation).order_by("created_at", "id")
    )


# The detail page's tree: the source, its takes, and their takes, at most this deep and wide.
TREE_DEPTH = 3
TREE_WIDTH = 12


@dataclass(frozen=True)
class TakeNode:
    generation: Generation
    takes: list[TakeNode]


def take_tree(generation: Generation) -> TakeNode | None:
    """The generation's family for its page: from its oldest visible source (at most TREE_DEPTH
    - 1 steps up) down TREE_DEPTH levels, the newest TREE_WIDTH takes of each; a query a level.
    None for a generation with neither a source nor takes."""
    root = generation
    for _ in range(TREE_DEPTH - 1):
        parent = root.parent
        if parent is None or parent.deleted_at is not None:
            break
        root = parent
    level = [TakeNode(root, [])]
    top = level[0]
    for _ in range(TREE_DEPTH - 1):
        by_parent = {node.generation.pk: node for node in level}
        rank = Window(
            RowNumber(),
            partition_by=[F("parent_id")],
            order_by=[F("created_at").desc(), F("id").desc()],
        )
        takes = (
            Generation.objects.visible()
            .filter(parent_id__in=by_parent)
            .annotate(rank=rank)
            .filter(rank__lte=TREE_WIDTH)
            .order_by("-created_at", "-id")
        )
        level = []
        for take in takes:
            node = TakeNode(take, [])
            by_parent[take.parent_id].takes.append(node)
            level.append(node)
        if not level:
            break
    return top if top.takes or top.generation.pk != generation.pk else None
