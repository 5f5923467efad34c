"""Every stable `code` the REST API answers with: its HTTP status and what it means. The page
/api/docs/errors/ lists them, each with an anchor that an error body's `doc_url` points at. A
test collects the codes the code can raise and fails when one is missing here.

Plain data: the codes of the apps' errors are named here as strings, so nothing is imported."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BACKTICKED = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str  # `backticks` mark names: headers, members, values

    def meaning_html(self) -> SafeString:
        return mark_safe(BACKTICKED.sub(r"<code>\1</code>", escape(self.meaning)))  # noqa: S308


ERROR_CODES: tuple[ErrorCode, ...] = (
    # Requests a client must fix.
    ErrorCode(
        "invalid",
        400,
        "The request is not valid: `fields` names each field that is wrong and why; without "
        "`fields`, `message` says what.",
    ),
    ErrorCode("parse_error", 400, "The body could not be read: malformed JSON or form data."),
    ErrorCode(
        "invalid_idempotency_key",
        400,
        "The `Idempotency-Key` header is empty, too long or not printable ASCII.",
    ),
    ErrorCode("unknown_pack", 400, "No credit pack on sale has this id."),
    ErrorCode("unknown_plan", 400, "No plan on offer has this id."),
    ErrorCode("no_plan", 400, "You have no plan to manage."),
    ErrorCode("credit_error", 400, "The credit operation is not possible as asked."),
    ErrorCode(
        "invalid_auto_refill",
        400,
        "The automatic refill's settings are not valid: an unknown pack, or a threshold out of "
        "range; `message` says which.",
    ),
    ErrorCode(
        "threshold_out_of_range",
        400,
        "The low-balance alert's threshold must be a whole number in the range `message` gives.",
    ),
    ErrorCode("suspension_refused", 400, "The account cannot be suspended or restored so."),
    ErrorCode("export_refused", 429, "A data export was asked for too soon after the last one."),
    ErrorCode("deletion_refused", 400, "The account cannot be deleted now; `message` says why."),
    # Who is asking.
    ErrorCode(
        "not_authenticated",
        401,
        "No credentials: send `Authorization: Bearer <key>` with a key from Settings > API keys.",
    ),
    ErrorCode(
        "authentication_failed",
        401,
        "The API key is unknown, malformed or revoked, or its account is disabled.",
    ),
    # Money.
    ErrorCode(
        "insufficient_credits",
        402,
        "Not enough credits; `needed` and `available` say how many. Nothing was charged.",
    ),
    ErrorCode(
        "credit_debt",
        402,
        "A refunded or disputed purchase left a debt; the next purchase pays it first. "
        "Nothing was charged.",
    ),
    ErrorCode(
        "card_needs_customer",
        402,
        "The bank refused a payment with the saved card, or wants you to confirm it; pay once "
        "on the site to go on.",
    ),
    ErrorCode(
        "key_credit_cap_reached",
        402,
        "This API key's monthly credit cap would be passed (`monthly_credit_cap`, "
        "`spent_this_month`, `needed`). Nothing was charged; the count starts again on the 1st "
        "(UTC).",
    ),
    # What is allowed.
    ErrorCode(
        "insufficient_scope",
        403,
        "The API key lacks the scope this operation needs, named in `required_scope`. Create a "
        "key with it on Settings > API keys.",
    ),
    ErrorCode(
        "permission_denied",
        403,
        "Not allowed; for a browser session most often a missing CSRF token.",
    ),
    ErrorCode("account_suspended", 403, "The account is suspended; contact support."),
    # What is there.
    ErrorCode(
        "not_found",
        404,
        "No such object among yours, or no endpoint at this URL. Other users' objects always "
        "answer this.",
    ),
    ErrorCode("method_not_allowed", 405, "The endpoint does not take this HTTP method."),
    ErrorCode("not_acceptable", 406, "The `Accept` header asks for a format the API cannot send."),
    ErrorCode(
        "conflict",
        409,
        "The object's state does not allow this (cancel a finished generation, delete one in "
        "progress, retry one that succeeded).",
    ),
    ErrorCode(
        "webhook_conflict",
        409,
        "The webhook endpoint's state does not allow this (send a test event to a disabled one).",
    ),
    ErrorCode("video_not_ready", 409, "The video is not there until the generation succeeds."),
    ErrorCode("video_missing", 409, "The video file is gone from the storage."),
    ErrorCode(
        "push_endpoint_in_use", 409, "This push endpoint belongs to another signed-in account."
    ),
    ErrorCode(
        "plan_starting",
        409,
        "A plan's payment went through and the plan is being set up; look again in a moment.",
    ),
    ErrorCode("payload_too_large", 413, "The request body is over the upload limit."),
    ErrorCode("unsupported_media_type", 415, "Send JSON or multipart/form-data."),
    ErrorCode(
        "idempotency_key_reused",
        422,
        "This `Idempotency-Key` was used before with other parameters.",
    ),
    # Limits: wait `Retry-After` seconds.
    ErrorCode(
        "rate_limited",
        429,
        "Too many submissions in the window; wait `Retry-After` seconds. `RateLimit-*` headers "
        "say how many remain.",
    ),
    ErrorCode(
        "too_many_in_flight",
        429,
        "Too many generations in progress at once; wait for one to finish or cancel one.",
    ),
    ErrorCode(
        "too_many_open_checkouts",
        429,
        "Too many orders await payment; pay or cancel one first.",
    ),
    ErrorCode("throttled", 429, "Too many requests; wait `Retry-After` seconds."),
    ErrorCode(
        "daily_spend_cap_reached",
        503,
        "The site's daily budget for videos made with free credits is used up; it reopens at "
        "midnight, or buy credits to go on now.",
    ),
    ErrorCode(
        "limits_unavailable",
        503,
        "The limits service cannot be reached, so submissions pause; retry after `Retry-After`.",
    ),
    ErrorCode(
        "payments_unavailable",
        503,
        "The payment provider could not be reached; nothing was charged. Retry in a minute.",
    ),
)

BY_CODE = {error.code: error for error in ERROR_CODES}
