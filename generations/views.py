"""The pages where users create, follow and manage their generations.

Every page works as a full load; HTMX requests get a partial of the same template. Writes go
through generations.actions (and generations.lifecycle for those that enqueue work); these
views only translate requests and answers.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import quote_etag, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from credits.actions import CreditDebtOutstanding, InsufficientCredits
from generations import catalog, eta, selectors
from generations.actions.deletion import delete_generation
from generations.actions.errors import CannotCancel, CannotDelete, CannotFeature
from generations.actions.sharing import (
    enable_sharing,
    revoke_sharing,
    set_feature_consent,
    set_starred,
)
from generations.analytics import count_submission
from generations.edit_form import EditForm, costs, edit_operations, video_seconds
from generations.files import zip_stream
from generations.forms import CreateForm, script_data
from generations.lifecycle.submission import retry_generation, submit_generation
from generations.lifecycle.transitions import cancel_generation
from generations.models import IN_FLIGHT_STATUSES, Generation, Status
from generations.operations import Operation
from generations.selectors import GenerationWithRefundFlag
from generations.templatetags.wan_ui import retry_action_tag
from wan_pwa.errors import DomainError
from wan_pwa.http import AuthenticatedHttpRequest, HtmxHttpRequest
from wan_pwa.log_context import names_generation

PAGE_SIZES = (12, 24, 48, 100)
# The ids htmx names as its target: the history's list, and the detail page's live section.
HISTORY_RESULTS_ID = "history-results"
DETAIL_LIVE_ID = "live"
CARD_TEMPLATE = "generations/partials/card.html"
LIVE_TEMPLATE = "generations/detail.html#live"
STAR_TEMPLATE = "generations/partials/star_form.html"


def _redirect(request: HtmxHttpRequest, default: str) -> HttpResponse:
    """Back to where the action was started (a safe `next`), or to `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return _go(request, target)


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """A redirect, which htmx gets as an instruction to load the page."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# Create


@login_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Refusals answered with a link to Billing.
    insufficient: InsufficientCredits | CreditDebtOutstanding | None = None
    if request.method == "POST":
        form = CreateForm(request.user, request.POST, request.FILES)
        if form.is_valid():
            params = form.params()
            key = form.cleaned_data["idempotency_key"] or None
            try:
                generation = submit_generation(request.user, params, idempotency_key=key).generation
            except ValidationError as error:
                form.add_error(None, error)
            except (InsufficientCredits, CreditDebtOutstanding) as error:
                insufficient = error
                form.add_error(None, str(error))
            except DomainError as error:  # a limit, or an idempotency key reused
                form.add_error(None, error.message)
            else:
                count_submission()
                messages.success(
                    request,
                    f"Generation #{generation.pk} started: {generation.cost} credits reserved.",
                )
                return _redirect(request, reverse("history"))
            finally:
                params.close_files()
        count_submission("credits" if insufficient else "invalid")  # a limit counts as invalid
        if insufficient:
            messages.error(request, insufficient.message, extra_tags="action-billing")
        else:
            messages.error(request, "The video was not started: check the highlighted fields.")
        status = 422
    else:
        source = None
        if (remix_pk := _int(request.GET.get("remix", ""))) is not None:
            source = selectors.history_of(request.user).filter(pk=remix_pk).first()
        if source:
            form = CreateForm.remixing(request.user, source)
        else:  # "Remix this" on the home page's gallery brings a prompt
            prompt = request.GET.get("prompt", "")[: catalog.PROMPT_MAX_LENGTH]
            form = CreateForm(request.user, initial={"prompt": prompt} if prompt else None)
        status = 200
    template = "generations/create.html#create-form" if request.htmx else "generations/create.html"
    context = {
        "form": form,
        "script_data": script_data(),
        "cheapest_cost": catalog.CHEAPEST_COST,
        "remix_source": form.remix_source(),
        "insufficient": insufficient,
        "cost_preview": _cost_preview(form),
    }
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


def _cost_preview(form: CreateForm) -> int | None:
    """The cost of what the form currently asks for, before the page's script takes over."""
    lengths = {name: form[name].value() for name in ("duration", "frame_num")}
    return catalog.cost_or_none(
        form["model_key"].value() or "", form["resolution"].value() or "", lengths
    )


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Edit: a take of one of the user's videos, or of an uploaded clip


@login_required
@require_http_methods(["GET", "POST"])
def edit(
    request: AuthenticatedHttpRequest, operation: str = "", pk: int | None = None
) -> HttpResponse:
    offered = edit_operations()
    if operation and operation not in offered:
        raise Http404("No such operation.")
    chosen = Operation(operation) if operation else offered[0]
    source = None
    if pk is not None:
        source = selectors.generation_of(request.user, pk)
        if not source.is_ready:
            messages.error(request, "Only a finished video can be edited.")
            return redirect("detail", pk=pk)
    if request.method == "POST":
        form = EditForm(chosen, source, request.POST, request.FILES)
        if form.is_valid():
            params = form.params()
            key = form.cleaned_data["idempotency_key"] or None
            try:
                take = submit_generation(request.user, params, idempotency_key=key).generation
            except ValidationError as error:
                _add_errors(form, error)
            except (InsufficientCredits, CreditDebtOutstanding) as error:
                messages.error(request, error.message, extra_tags="action-billing")
                form.add_error(None, str(error))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                count_submission()
                messages.success(request, f"Take #{take.pk} started: {take.cost} credits reserved.")
                return _go(request, reverse("detail", args=[take.pk]))
            finally:
                params.close_files()
        count_submission("invalid")
        messages.error(request, "The take was not started: check the highlighted fields.")
        status = 422
    else:
        form = EditForm(chosen, source, initial=_remixed_take(request, source, chosen))
        status = 200
    seconds = video_seconds(source.video) if source else None
    context = {
        "form": form,
        "source": source,
        "operation": chosen,
        "tabs": [(op, _edit_url(op, source)) for op in offered],
        "action": _edit_url(chosen, source),
        "costs": costs(chosen, seconds),
        "cost_preview": _edit_cost_preview(form, seconds),
    }
    template = "generations/edit.html#edit-form" if request.htmx else "generations/edit.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _add_errors(form: EditForm, error: ValidationError) -> None:
    """The actions' field errors on the page's fields; those of inputs the page fills itself
    (the source, its mask, the operation) above the form, named."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(None, errors)


def _remixed_take(
    request: AuthenticatedHttpRequest, source: Generation | None, operation: Operation
) -> dict[str, object]:
    """A take's parameters, when "Remix" on it led here (its source, its operation)."""
    pk = _int(request.GET.get("remix", ""))
    if pk is None or source is None:
        return {}
    take = selectors.history_of(request.user).filter(pk=pk, parent=source).first()
    if take is None or take.operation != operation:
        return {}
    return {
        "model_key": take.model_key,
        "resolution": take.resolution,
        "prompt": take.prompt,
        "seed": take.seed,
        **{
            name: str(value).lower() if isinstance(value, bool) else value
            for name, value in take.options.items()
        },
    }


def _edit_url(operation: str, source: Generation | None) -> str:
    if source is None:
        return reverse("edit-clip", args=[operation])
    return reverse("edit", args=[source.pk, operation])


def _edit_cost_preview(form: EditForm, seconds: float | None) -> int | None:
    model = form.chosen_model()
    if model is None:
        return None
    length = form["duration"].value() if "duration" in form.fields else None
    return (
        costs(form.operation, seconds)[model.key]
        .get(form["resolution"].value() or model.resolutions[0], {})
        .get(str(length or ""))
    )


# History


@login_required
@require_safe
def history(request: AuthenticatedHttpRequest) -> HttpResponse:
    filters = selectors.GenerationFilters.from_page(request.GET)
    per_page = _int(request.GET.get("per_page", "")) or PAGE_SIZES[0]
    if per_page not in PAGE_SIZES:
        per_page = PAGE_SIZES[0]
    generations = selectors.with_take_counts(selectors.history_of(request.user, filters))
    page = Paginator(generations, per_page).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "generations": page.object_list,
        "filters": filters,
        "statuses": Status.choices,
        "next_url": request.get_full_path(),
    }
    partial = request.htmx and request.htmx.target == HISTORY_RESULTS_ID
    template = "generations/history.html#results" if partial else "generations/history.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])  # the results swap alone
    return response


@login_required
@require_POST
def history_bulk(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    action = request.POST.get("action")
    values = request.POST.getlist("ids")
    ids = [pk for value in values if (pk := _int(value)) is not None]
    if action not in ("delete", "download") or len(ids) != len(values):
        return HttpResponseBadRequest("Choose delete or download and select generations.")
    chosen = list(selectors.selected_generations(request.user, ids))
    if not chosen:
        messages.info(request, "Select at least one generation first.")
        return _redirect(request, reverse("history"))
    if action == "download":
        ready = [generation for generation in chosen if generation.is_ready]
        if not ready:
            messages.info(request, "None of the selected generations has a video yet.")
            return _redirect(request, reverse("history"))
        response = StreamingHttpResponse(zip_stream(ready), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="wan-videos.zip"'
        return response
    deleted, kept = 0, 0
    for generation in chosen:
        try:
            delete_generation(generation)
            deleted += 1
        except CannotDelete:
            kept += 1
    if deleted:
        messages.success(request, f"Deleted {deleted} generation{'s' if deleted > 1 else ''}.")
    if kept:
        messages.error(request, f"{kept} still in progress and not deleted: cancel them first.")
    return _redirect(request, reverse("history"))


def _announce_finish(
    request: HtmxHttpRequest, generation: GenerationWithRefundFlag, since: str
) -> None:
    """A toast when a poll sees a generation the page showed in flight come to its end."""
    if since not in IN_FLIGHT_STATUSES or generation.is_in_flight:
        return
    refund = f" {generation.cost} credits were refunded." if generation.refunded else ""
    if generation.status == Status.SUCCEEDED:
        messages.success(request, f"Generation #{generation.pk} is ready.")
    elif generation.status == Status.FAILED:
        reason = generation.error_message or "Replicate reported a failure."
        messages.error(
            request,
            f"Generation #{generation.pk} failed: {reason}{refund}",
            extra_tags=retry_action_tag(generation),
        )
    else:
        messages.info(request, f"Generation #{generation.pk} was canceled.{refund}")


@names_generation(kwarg="pk")
@login_required
@require_safe
def generation_card(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One history card: what in-flight cards poll until they come to an end."""
    generation = selectors.generation_of(request.user, pk)
    context = {"generation": generation, "next_url": request.GET.get("next", reverse("history"))}
    return _polled(request, generation, CARD_TEMPLATE, context)


def _polled(
    request: HtmxHttpRequest, generation: GenerationWithRefundFlag, template: str, context: dict
) -> HttpResponse:
    """A fragment that pages poll every 2 s while the generation runs.

    While it runs, the answer is validated by an ETag on the row's last change and the ETA the
    card shows (whole minutes, which move with time, not only with the row): a poll that changes
    nothing is a 304 without a body. Such an answer must stay what the browser holds, so
    it carries no toasts or balance (HtmxExtrasMiddleware leaves answers with an ETag alone).
    Once the generation has ended, the answer announces it, and polling stops.
    """
    if generation.is_in_flight:
        minutes = eta.minutes_shown(eta.remaining_seconds(generation))
        etag = quote_etag(f"{generation.pk}.{generation.updated_at.timestamp()}.{minutes}")
        response = get_conditional_response(request, etag=etag)
        if response is None:
            response = render(request, template, context)
        response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        return response
    _announce_finish(request, generation, request.GET.get("since", ""))
    return render(request, template, context)


# Detail


@names_generation(kwarg="pk")
@login_required
@require_safe
def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    if request.htmx:
        response = _polled(request, generation, LIVE_TEMPLATE, {"generation": generation})
    else:
        response = _detail_page(request, generation)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


def _detail_page(request: HtmxHttpRequest, generation: Generation) -> HttpResponse:
    entries = selectors.credit_entries_of(generation)
    context = {
        "generation": generation,
        "tree": selectors.take_tree(generation),
        # A take of an uploaded clip has no source generation; a deleted one stays a row.
        "source_deleted": generation.parent is not None
        and generation.parent.deleted_at is not None,
        "entries": entries,
        "charged": sum(-e.amount for e in entries if e.amount < 0),
        "refunded_amount": sum(e.amount for e in entries if e.amount > 0),
        "share_url": (
            request.build_absolute_uri(reverse("shared", args=[generation.share_token]))
            if generation.share_token
            else ""
        ),
    }
    return render(request, "generations/detail.html", context)


# Actions on one generation


def _updated_or_redirect(request: AuthenticatedHttpRequest, generation: Generation) -> HttpResponse:
    """After an action: htmx gets the generation's part of the page it came from (the detail's
    live section or a history card) as it is now; a plain form goes back to its page."""
    if not request.htmx:
        return _redirect(request, reverse("detail", args=[generation.pk]))
    fresh = selectors.generation_of(request.user, generation.pk)
    if request.htmx.target == DETAIL_LIVE_ID:
        return render(request, LIVE_TEMPLATE, {"generation": fresh})
    next_url = request.POST.get("next", reverse("history"))
    return render(request, CARD_TEMPLATE, {"generation": fresh, "next_url": next_url})


@names_generation(kwarg="pk")
@login_required
@require_POST
def star(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    starred = request.POST.get("starred") == "1"
    set_starred(generation, starred)
    messages.success(request, f"{'Starred' if starred else 'Unstarred'} #{generation.pk}.")
    if request.htmx:
        context = {"generation": generation, "next_url": request.POST.get("next", "")}
        return render(request, STAR_TEMPLATE, context)
    return _redirect(request, reverse("detail", args=[pk]))


@names_generation(kwarg="pk")
@login_required
@require_POST
def cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    try:
        cancel_generation(generation)
    except CannotCancel as error:
        messages.error(request, error.message)
    else:
        messages.info(request, f"Canceling #{generation.pk}; its credits come back.")
    return _updated_or_redirect(request, generation)


@names_generation(kwarg="pk")
@login_required
@require_POST
def retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    key = request.POST.get("idempotency_key") or None  # too long: the action says so
    try:
        new = retry_generation(generation, idempotency_key=key).generation
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _redirect(request, reverse("detail", args=[pk]))
    except (InsufficientCredits, CreditDebtOutstanding) as error:
        messages.error(request, str(error), extra_tags="action-billing")
        return _redirect(request, reverse("detail", args=[pk]))
    except DomainError as error:
        messages.error(request, error.message)
        return _redirect(request, reverse("detail", args=[pk]))
    messages.success(request, f"Retrying #{pk} as #{new.pk}: {new.cost} credits reserved.")
    return _redirect(request, reverse("history"))


@names_generation(kwarg="pk")
@login_required
@require_POST
def delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    try:
        delete_generation(generation)
    except CannotDelete as error:
        messages.error(request, error.message)
        return _updated_or_redirect(request, generation)
    messages.success(request, f"Deleted #{pk} and its files.")
    if request.POST.get("next", "").startswith(reverse("detail", args=[pk])):
        return _go(request, reverse("history"))  # the page of what was deleted is gone
    if request.htmx:
        return HttpResponse("")  # the card swaps itself out for nothing
    return _redirect(request, reverse("history"))


@names_generation(kwarg="pk")
@login_required
@require_POST
def share(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    if not generation.can_share:
        messages.error(request, "Only a finished video can be shared.")
    else:
        enable_sharing(generation)
        messages.success(request, "Share link created: anyone with it can watch this video.")
    return redirect("detail", pk=pk)


@names_generation(kwarg="pk")
@login_required
@require_POST
def revoke_share(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    revoke_sharing(generation)
    messages.success(request, "Share link revoked: it no longer works.")
    return redirect("detail", pk=pk)


@names_generation(kwarg="pk")
@login_required
@require_POST
def feature_consent(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    generation = selectors.generation_of(request.user, pk)
    allowed = request.POST.get("allowed") == "on"
    try:
        set_feature_consent(generation, allowed)
    except CannotFeature as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Staff may now show this video and its prompt on the home page."
            if allowed
            else "This video will not be shown on the home page.",
        )
    return redirect("detail", pk=pk)


# Public


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    generation = selectors.shared_generation(token)
    return render(request, "generations/shared.html", {"generation": generation})
