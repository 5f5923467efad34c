"""Apps import one way: webhooks -> generations -> credits -> wan_pwa. An app that imported one
above it would make a cycle; models point upwards by string ("generations.Generation") instead.
The project's own modules (urls, settings, wsgi, asgi) sit above every app and may import any.
The bottom app does not even name the others: they register what it shows and runs.

Inside an app, modules import one way too: no cycle between them, counting the imports inside
functions (an import moved into a function body hides a cycle, it does not remove it)."""

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
# Names of the public API that happen to read like an app's: event types of the webhooks we send
# and API key scopes.
PUBLIC_NAMES = {"credits.low"}
PUBLIC_NAME = re.compile(r"\b(generations|credits):(read|write)\b")


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
        and node.value not in PUBLIC_NAMES
        for match in [UPPER_APP_NAME.search(PUBLIC_NAME.sub("", node.value))]
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


def module_name(path: Path) -> str:
    """The dotted name of the module at `path` (a package by its folder's name)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, dotted name) of what the source imports when it runs, anywhere in the file,
    `from x import y` as `x.y` (the caller keeps the longest name that is a module). Imports
    under `if TYPE_CHECKING:` never run, so they cannot take part in a cycle."""
    tree = ast.parse(source)
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *filter(None, [node.module])])
            found.extend((node.lineno, f"{target}.{alias.name}".strip(".")) for alias in node.names)
    return found


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules of its own app it imports, from {module: (source, is_package)}."""
    graph: dict[str, set[str]] = {module: set() for module in sources}
    for module, (source, is_package) in sources.items():
        app = module.split(".")[0]
        for _, name in runtime_imports(source, module, is_package):
            parts = name.split(".")
            prefixes = (".".join(parts[:end]) for end in range(len(parts), 0, -1))
            imported = next((prefix for prefix in prefixes if prefix in sources), None)
            if imported and imported != module and imported.split(".")[0] == app:
                graph[module].add(imported)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan's strongly
    connected components of more than one module)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return cycles


def test_no_modules_of_an_app_import_each_other_in_a_cycle():
    sources = {
        module_name(path): (path.read_text(), path.name == "__init__.py") for path in app_sources()
    }
    graph = import_graph(sources)
    assert graph["generations.lifecycle.submission"]  # the walk found the imports
    assert import_cycles(graph) == []


# Inside generations, the layers below the lifecycle never name what drives them: the Replicate
# client and the MP4 work know no generation logic, and the actions enqueue nothing.
LOWER_LAYERS = {
    "generations.replicate": ("generations.actions", "generations.lifecycle", "generations.tasks"),
    "generations.media": ("generations.actions", "generations.lifecycle", "generations.replicate"),
    "generations.actions": ("generations.lifecycle", "generations.tasks"),
}


def above_their_layer(graph: dict[str, set[str]]) -> list[str]:
    """The imports of a lower layer of generations (LOWER_LAYERS) of what is above it."""
    return [
        f"{module} imports {imported}"
        for module, imports in graph.items()
        for layer, above in LOWER_LAYERS.items()
        if module == layer or module.startswith(f"{layer}.")
        for imported in imports
        if imported.startswith(above)
    ]


def test_the_client_media_and_actions_import_nothing_above_them():
    sources = {
        module_name(path): (path.read_text(), path.name == "__init__.py") for path in app_sources()
    }
    assert above_their_layer(import_graph(sources)) == []


@pytest.mark.parametrize(
    ("module", "source", "caught"),
    [
        ("generations.replicate.gateway", "from generations.actions import transitions", True),
        ("generations.actions.deletion", "def f():\n    import generations.lifecycle.output", True),
        ("generations.media", "from generations.replicate import gateway", True),
        ("generations.lifecycle.output", "from generations import media", False),
    ],
)
def test_an_import_above_a_lower_layer_is_caught(module, source, caught):
    targets = ["generations.actions.transitions", "generations.lifecycle.output"]
    targets += ["generations.replicate.gateway", "generations.media"]
    sources = {name: ("", False) for name in targets} | {module: (source, False)}
    assert bool(above_their_layer(import_graph(sources))) == caught


@pytest.mark.parametrize(
    "sources",
    [
        {  # through an import inside a function
            "generations.actions": "from generations import tasks",
            "generations.tasks": "def run():\n    from generations.actions import submit",
        },
        {  # round a loop of three, relative and package imports included
            "generations.lifecycle.a": "from . import b",
            "generations.lifecycle.b": "import generations.lifecycle.c",
            "generations.lifecycle.c": "from generations.lifecycle.a import go",
        },
    ],
)
def test_a_cycle_between_modules_of_an_app_is_caught(sources):
    graph = import_graph({module: (source, False) for module, source in sources.items()})
    assert import_cycles(graph) == [sorted(sources)]


@pytest.mark.parametrize(
    "sources",
    [
        {  # one way only
            "generations.lifecycle.submission": "from generations.actions import submission",
            "generations.actions.submission": "from generations import models",
            "generations.models": "from credits.models import CreditBalance",
        },
        {  # a type checker's import never runs
            "generations.simulator.server": "from .http_api import Handler",
            "generations.simulator.http_api": (
                "if TYPE_CHECKING:\n    from .server import ReplicateSimulator"
            ),
        },
        {  # across apps is the app order's business, not a module cycle
            "credits.actions": "from wan_pwa import errors",
            "wan_pwa.errors": "def late():\n    import credits.actions",
        },
    ],
)
def test_imports_without_a_cycle_inside_an_app_pass(sources):
    graph = import_graph({module: (source, False) for module, source in sources.items()})
    assert import_cycles(graph) == []


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
        'TABLE = "generations_generation"',
    ],
)
def test_a_name_of_an_app_above_in_the_bottom_app_is_caught(source):
    assert upper_app_names("wan_pwa/analytics/dashboard.py", source) != []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("wan_pwa/api/schema.py", 'HELP = "Not enough credits; nothing was created."'),
        ("wan_pwa/api/schema.py", 'HELP = "This key lacks the `generations:write` scope."'),
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
