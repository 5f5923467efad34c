"""Apps import one way: webhooks -> generations -> credits -> wan_pwa. An app that imported one
above it would make a cycle; models point upwards by string ("generations.Generation") instead.
The project's own modules (urls, settings, wsgi, asgi) sit above every app and may import any.
The bottom app does not even name the others: they register what it shows and runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS_FROM_THE_BOTTOM = ("wan_pwa", "credits", "generations", "webhooks")
PROJECT_MODULES = {f"wan_pwa/{name}.py" for name in ("urls", "settings", "wsgi", "asgi")}
# Imports by name at run time are imports too.
DYNAMIC_IMPORTERS = {"import_module", "import_string"}


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every module the source imports, anywhere in the file (functions
    included), relative imports resolved against `module`."""
    package = module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *filter(None, [node.module])])
            # `from . import x` at the top of the tree names the module in the alias.
            names = [target] if target else [alias.name for alias in node.names]
            found.extend((node.lineno, name) for name in names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in DYNAMIC_IMPORTERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def upward_imports(path: str, source: str) -> list[str]:
    """The imports in the file at `path` (relative to the root) of an app above its own."""
    app = path.split("/")[0]
    if app not in APPS_FROM_THE_BOTTOM or path in PROJECT_MODULES:
        return []
    level = APPS_FROM_THE_BOTTOM.index(app)
    module = path.removesuffix(".py").replace("/", ".")
    return [
        f"{path}:{line} imports {name}"
        for line, name in imported_modules(source, module)
        if name.split(".")[0] in APPS_FROM_THE_BOTTOM[level + 1 :]
    ]


BOTTOM_APP = APPS_FROM_THE_BOTTOM[0]
# An app label, a module path or prefix, a metric or job name, an admin URL name: "credits",
# "generations.", "webhooks.views", "generations.ended", "admin:credits_order_changelist".
# Prose ("not enough credits") and URL paths ("/api/webhooks/stripe") are not names.
UPPER_APPS = "|".join(APPS_FROM_THE_BOTTOM[1:])
UPPER_APP_NAME = re.compile(rf"^({UPPER_APPS})\.?$|\b({UPPER_APPS})[.:_][A-Za-z]")


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
    return found


def upper_app_names(path: str, source: str) -> list[str]:
    """The strings in the bottom app's file at `path` that name an app above it (docstrings
    aside, which may tell where things come from)."""
    if path.split("/")[0] != BOTTOM_APP or path in PROJECT_MODULES:
        return []
    tree = ast.parse(source)
    skipped = docstrings(tree)
    return [
        f"{path}:{node.lineno} names {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
        for match in [UPPER_APP_NAME.search(node.value)]
        if match
    ]


def app_sources() -> list[Path]:
    return sorted(
        path
        for app in APPS_FROM_THE_BOTTOM
        for path in (ROOT / app).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def test_no_app_imports_an_app_above_it():
    sources = app_sources()
    assert len(sources) > 50  # the walk found the code
    violations = [
        line
        for path in sources
        for line in upward_imports(str(path.relative_to(ROOT)), path.read_text())
    ]
    assert violations == []


def test_the_bottom_app_names_no_app_above_it():
    violations = [
        line
        for path in app_sources()
        for line in upper_app_names(str(path.relative_to(ROOT)), path.read_text())
    ]
    assert violations == []


@pytest.mark.parametrize(
    "source",
    [
        'METRICS = ["generations.ended", "credits.moved"]',
        'JOB = {"call": "webhooks.jobs.prune_webhook_events"}',
        'def find(view):\n    return view.__module__ == "webhooks.views"',
        'URL = "admin:credits_order_changelist"',
        'def is_generation_view(view):\n    return view.__module__.startswith("generations.")',
        'config = apps.get_app_config("webhooks")',
    ],
)
def test_a_name_of_an_app_above_in_the_bottom_app_is_caught(source):
    assert upper_app_names("wan_pwa/analytics/dashboard.py", source) != []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("wan_pwa/api/schema.py", 'HELP = "Not enough credits; nothing was created."'),
        ("wan_pwa/management/commands/run_local.py", 'URL = "/api/webhooks/stripe"'),
        ("wan_pwa/metrics.py", 'def f():\n    """Reads generations.ended."""'),
        ("wan_pwa/settings.py", 'APPS = ["credits", "generations.apps.GenerationsConfig"]'),
        ("credits/models.py", 'GENERATION = "generations.Generation"'),
    ],
)
def test_prose_docstrings_and_the_project_modules_may_name_them(path, source):
    assert upper_app_names(path, source) == []


def test_every_app_has_its_place_in_the_order():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps == set(APPS_FROM_THE_BOTTOM)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("credits/admin.py", "from generations.models import Generation"),
        ("wan_pwa/accounts/views.py", "def view():\n    import credits.selectors"),
        ("generations/actions.py", "from webhooks import models"),
        ("wan_pwa/middleware.py", "import_string('credits.selectors.balance_of')"),
        ("wan_pwa/api/errors.py", "from ... import generations"),
    ],
)
def test_an_import_of_an_app_above_is_caught(path, source):
    assert upward_imports(path, source) != []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("generations/actions.py", "from credits.actions import charge_generation"),
        ("webhooks/views.py", "from generations import actions"),
        ("credits/models.py", "from wan_pwa.errors import DomainError"),
        ("wan_pwa/urls.py", "from generations.api import GenerationViewSet"),
        ("generations/simulator/server.py", "from .webhooks import WebhookSender"),
    ],
)
def test_imports_downwards_within_an_app_and_from_the_project_are_allowed(path, source):
    assert upward_imports(path, source) == []
