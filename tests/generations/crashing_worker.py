"""`manage.py run_worker` with crash points: the process SIGKILLs itself at a chosen point of a
chosen kind of task, as a power cut or the OOM killer would.

Run as `python tests/generations/crashing_worker.py <run_worker options>` with:
- CRASH_AT: comma-separated points among `submit` (Replicate created the prediction, its id is
  not saved yet), `watchdog` (a check applied, the next one not scheduled yet) and `copy` (the
  video is stored, the generation not marked succeeded yet);
- CRASH_RATE: the chance (0-1) that a point crashes when reached (default 1);
- CRASH_DIR: a folder where each crash leaves a file `<point>-<generation id>`, created
  exclusively, so each point crashes at most once per generation across all workers.
"""

from __future__ import annotations

import os
import random
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def crash_here(point: str, generation_id: int) -> None:
    if point not in os.environ.get("CRASH_AT", "").split(","):
        return
    if random.random() >= float(os.environ.get("CRASH_RATE", "1")):
        return
    marker = Path(os.environ["CRASH_DIR"]) / f"{point}-{generation_id}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def after(function: Callable[..., Any], point: str, generation_of: Callable[..., int]):
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        crash_here(point, generation_of(*args, **kwargs))
        return result

    return wrapped


def before(function: Callable[..., Any], point: str, generation_of: Callable[..., int]):
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        crash_here(point, generation_of(*args, **kwargs))
        return function(*args, **kwargs)

    return wrapped


def install_crash_points() -> None:
    from generations.lifecycle import output, submission, watchdog

    submission.create_prediction = after(
        submission.create_prediction, "submit", lambda generation: generation.pk
    )
    watchdog.check = after(watchdog.check, "watchdog", lambda generation: generation.pk)
    output.store_output = before(
        output.store_output, "copy", lambda generation_id, **names: generation_id
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wan_pwa.settings")
    import django
    from django.core.management import call_command

    django.setup()
    install_crash_points()
    call_command("run_worker", *sys.argv[1:])
