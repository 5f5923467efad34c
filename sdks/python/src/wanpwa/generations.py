"""`client.generations`: start videos, follow them, list them, download them."""

import os
import time
import uuid
from pathlib import Path
from typing import IO, Any, Literal, NotRequired, Required, TypedDict, Unpack

from wanpwa._core import Listing, Op, Sleep, form_value
from wanpwa._files import FileInput, file_part
from wanpwa._resource import (
    Resource,
    async_iterating,
    awaitable,
    blocking,
    iterating,
)
from wanpwa.errors import WaitTimeoutError
from wanpwa.models import Generation

FILE_FIELDS = ("image", "end_image", "audio", "video", "mask")
DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_POLL_INTERVAL = 2.0

Status = Literal["queued", "starting", "processing", "succeeded", "failed", "canceled"]
Operation = Literal["create", "edit", "extend", "animate", "replace", "speak", "region"]


class MaskBox(TypedDict):
    """A box on the source's first frame, in fractions of the frame (0 to 1 from its top left
    corner)."""

    x: float
    y: float
    width: float
    height: float


class GenerationParams(TypedDict, total=False):
    """What `create` sends (see GET /api/v1/models/ for each model's operations, files,
    resolutions and settings). The files (`image`, `end_image`, `audio`, `video`, `mask`) are a
    path, bytes or an open binary file. A take of a video (`operation` other than "create")
    starts from `source_generation`, the id of one of your finished videos, or an uploaded
    `video`."""

    model_key: Required[str]
    prompt: str  # required except by the models whose `takes_prompt` is false
    operation: Operation
    source_generation: int | None
    video: FileInput
    end_image: FileInput
    mask: FileInput
    mask_box: MaskBox  # the region to change, instead of a `mask` video
    resolution: str
    aspect_ratio: str
    negative_prompt: str
    seed: int | None
    image: FileInput
    audio: FileInput
    frame_num: int
    duration: int
    prompt_expansion: bool
    go_fast: bool
    fast_mode: str
    sample_steps: int
    guidance_scale: float
    shift: float
    lora_weights: str
    lora_scale: float
    audio_setting: Literal["auto", "origin"]
    merge_audio: bool
    # Sent as given to the API, which tells the URL's owner when the generation ends.
    webhook: NotRequired[str]
    webhook_events_filter: NotRequired[list[str]]


def new_idempotency_key() -> str:
    return f"sdk-{uuid.uuid4()}"


class GenerationsBase(Resource):
    def _create(
        self, *, idempotency_key: str | None = None, **params: Unpack[GenerationParams]
    ) -> Op[Generation]:
        """Starts a generation: charged now, refunded if it fails or is canceled. Retries
        (after a lost answer, a 429 or a 5xx) send one Idempotency-Key, generated unless given,
        so the generation is created and charged once."""
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        return self._core.call(
            "POST",
            "/api/v1/generations/",
            Generation.from_dict,
            headers=headers,
            **_submission_body(dict(params)),
        )

    def _get(self, id: int) -> Op[Generation]:
        """The generation as it is now."""
        return self._core.call("GET", f"/api/v1/generations/{id}/", Generation.from_dict)

    def _list(
        self,
        *,
        status: Status | None = None,
        starred: bool | None = None,
        page_size: int | None = None,
    ) -> Listing[Generation]:
        """Your generations, newest first, fetched a page at a time as you iterate."""
        params = {"status": status, "starred": starred, "page_size": page_size}
        return Listing("/api/v1/generations/", params, Generation.from_dict)

    def _wait(
        self,
        id: int,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Op[Generation]:
        """Polls until the generation has ended (succeeded, failed or canceled: check
        `status`) and returns it; WaitTimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            generation = yield from self._get(id)
            remaining = deadline - time.monotonic()
            if generation.done:
                return generation
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"Generation {id} is still {generation.status} after {timeout:g} s."
                )
            yield Sleep(min(poll_interval, remaining))

    def _create_and_wait(
        self,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        idempotency_key: str | None = None,
        **params: Unpack[GenerationParams],
    ) -> Op[Generation]:
        """`create`, then `wait`: the ended generation."""
        generation = yield from self._create(idempotency_key=idempotency_key, **params)
        return (yield from self._wait(generation.id, timeout=timeout, poll_interval=poll_interval))

    def _cancel(self, id: int) -> Op[Generation]:
        """Stops a generation in progress; its credits are refunded."""
        return self._core.call("POST", f"/api/v1/generations/{id}/cancel/", Generation.from_dict)

    def _retry(self, id: int, *, idempotency_key: str | None = None) -> Op[Generation]:
        """A new generation with the same parameters as a failed or canceled one, charged
        again (once, however often the request is retried)."""
        return self._core.call(
            "POST",
            f"/api/v1/generations/{id}/retry/",
            Generation.from_dict,
            headers={"Idempotency-Key": idempotency_key or new_idempotency_key()},
        )

    def _delete(self, id: int) -> Op[None]:
        """Deletes it and its files (cancel one in progress first)."""
        return self._core.call("DELETE", f"/api/v1/generations/{id}/", lambda body: None)

    def _star(self, id: int) -> Op[Generation]:
        return self._core.call("POST", f"/api/v1/generations/{id}/star/", Generation.from_dict)

    def _unstar(self, id: int) -> Op[Generation]:
        return self._core.call("DELETE", f"/api/v1/generations/{id}/star/", Generation.from_dict)

    def _download(self, id: int, destination: str | os.PathLike[str] | IO[bytes]) -> Op[None]:
        """Saves the MP4 of a succeeded generation to a path (written whole or not at all) or
        into an open binary file."""
        request = self._core.build(
            "GET",
            f"/api/v1/generations/{id}/video/",
            headers={"Accept": "video/mp4, application/json"},
        )
        if not isinstance(destination, str | os.PathLike):
            yield from self._core.send(request, sink=destination, follow_redirects=True)
            return
        path = Path(destination)
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as sink:
                yield from self._core.send(request, sink=sink, follow_redirects=True)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)


class Generations(GenerationsBase):
    create = blocking(GenerationsBase._create)
    get = blocking(GenerationsBase._get)
    list = iterating(GenerationsBase._list)
    wait = blocking(GenerationsBase._wait)
    create_and_wait = blocking(GenerationsBase._create_and_wait)
    cancel = blocking(GenerationsBase._cancel)
    retry = blocking(GenerationsBase._retry)
    delete = blocking(GenerationsBase._delete)
    star = blocking(GenerationsBase._star)
    unstar = blocking(GenerationsBase._unstar)
    download = blocking(GenerationsBase._download)


class AsyncGenerations(GenerationsBase):
    create = awaitable(GenerationsBase._create)
    get = awaitable(GenerationsBase._get)
    list = async_iterating(GenerationsBase._list)
    wait = awaitable(GenerationsBase._wait)
    create_and_wait = awaitable(GenerationsBase._create_and_wait)
    cancel = awaitable(GenerationsBase._cancel)
    retry = awaitable(GenerationsBase._retry)
    delete = awaitable(GenerationsBase._delete)
    star = awaitable(GenerationsBase._star)
    unstar = awaitable(GenerationsBase._unstar)
    download = awaitable(GenerationsBase._download)


def _submission_body(params: dict[str, Any]) -> dict[str, Any]:
    """JSON, or multipart/form-data when a file goes with it."""
    files = {
        name: file_part(name, params.pop(name))
        for name in FILE_FIELDS
        if params.get(name) is not None
    }
    params = {name: value for name, value in params.items() if value is not None}
    if not files:
        return {"json": params}
    data = {
        name: [form_value(item) for item in value] if isinstance(value, list) else form_value(value)
        for name, value in params.items()
    }
    return {"data": data, "files": files}
