"""Apps import one way: webhooks -> generations -> credits -> wan_pwa. An app that imported one
above it would make a cycle; models point upwards by string ("generations.Generation") instead.
The project's own modules (urls, settings, wsgi, asgi) sit above every app and may import any."""

from __future__ import annotations

import ast
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
