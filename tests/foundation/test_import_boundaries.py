"""The house rules for imports, checked on the source (ast, no import is executed):

- direction: `crm -> campaigns -> leads`, `crm -> leads`; `reports`, `integrations`, `privacy` and `devtools` sit on
  top and nothing in leads/campaigns/crm/config imports them; config imports no app;
  `leads` never imports `leads.learning` (learning registers itself in its `ready()`);
- the door: across leads/campaigns/crm/reports/integrations/privacy only `<app>.api` is imported (`devtools` is
  exempt: benchmarks measure internals on purpose, and nothing imports devtools);
- no import circle between any two of the project's modules.

Every import counts, the ones inside functions too: a function-level import is still a
dependency (it only hides a circle from Python's import machinery until the call).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("config", "leads", "campaigns", "crm", "reports", "integrations", "privacy", "devtools")
# what each package may import from the others
ALLOWED = {
    "config": set(),
    "leads": {"config"},
    "campaigns": {"config", "leads"},
    "crm": {"config", "leads", "campaigns"},
    "reports": {"config", "leads", "campaigns", "crm"},
    "integrations": {"config", "leads", "campaigns", "crm"},
    "privacy": {"config", "leads", "campaigns", "crm", "integrations"},
    "devtools": {"config", "leads", "campaigns", "crm", "reports", "integrations", "privacy"},
}
DOOR_APPS = ("leads", "campaigns", "crm", "reports", "integrations", "privacy")  # only <app>.api between these
SUBAPPS_NOT_IMPORTED_BY_PARENT = ("leads.learning",)


# --- the import graph -------------------------------------------------------------------------


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages (migrations left out:
    they are history, frozen copies of models, not code that runs against the layout)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name the module imports (absolute; relative ones resolved), at any depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def resolve(name: str, modules) -> str | None:
    """The project module a dotted name lands in (`leads.api.Lead` -> `leads.api`)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """module -> the project modules it imports. `from pkg import name` counts as importing
    `pkg.name` when that is a module, else `pkg` (the package's `__init__`)."""
    modules = module_files(root, packages)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            target = resolve(name, modules)
            if target is not None and target != module:
                targets.add(target)
        # `from a.b import c` names `a.b` and `a.b.c`; keep only the deepest module reached
        graph[module] = {t for t in targets if not any(o != t and o.startswith(t + ".") for o in targets)}
    return graph


# --- the three checks ---------------------------------------------------------------------------


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def direction_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        package = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != package and other not in ALLOWED[package]:
                found.append(f"{module} imports {target}")
            for sub in SUBAPPS_NOT_IMPORTED_BY_PARENT:
                inside = module == sub or module.startswith(sub + ".")
                if package == sub.split(".")[0] and not inside and (target == sub or target.startswith(sub + ".")):
                    found.append(f"{module} imports {target} ({sub} registers itself instead)")
    return found


def door_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        package = module.split(".")[0]
        if package not in DOOR_APPS:
            continue
        for target in sorted(targets):
            other = target.split(".")[0]
            if other in DOOR_APPS and other != package and target != f"{other}.api":
                found.append(f"{module} imports {target} (only {other}.api)")
    return found


# --- the project ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_the_project(graph):
    # a sanity check on the graph itself: known edges, function-level ones included
    assert "leads.api" in graph["crm.services.handoff"]
    assert "crm.services.handoff" in graph["crm.tasks"]
    assert "reports.selectors" in graph["devtools.benchmarks.reports"]  # imported inside run()


def test_no_import_circle_between_modules(graph):
    assert circles(graph) == []


def test_imports_follow_the_direction_of_the_apps(graph):
    assert direction_violations(graph) == []


def test_apps_import_each_other_only_through_their_api(graph):
    assert door_violations(graph) == []


# --- each check catches a planted violation -----------------------------------------------------


def plant(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(text)
    return import_graph(tmp_path)


def test_a_circle_through_a_function_level_import_is_caught(tmp_path):
    graph = plant(
        tmp_path,
        {
            "crm/tasks.py": "from crm.services.handoff import lead_handoff\n",
            "crm/services/handoff.py": "def f():\n    from ..tasks import handoff_task\n",
            "crm/services/notifications.py": "import crm.tasks\n",
        },
    )

    assert circles(graph) == [["crm.services.handoff", "crm.tasks"]]


def test_a_longer_circle_is_caught(tmp_path):
    graph = plant(
        tmp_path,
        {"leads/a.py": "from . import b\n", "leads/b.py": "from leads import c\n", "leads/c.py": "import leads.a\n"},
    )

    assert circles(graph) == [["leads.a", "leads.b", "leads.c"]]


@pytest.mark.parametrize("app", ["leads", "campaigns", "crm", "config"])
@pytest.mark.parametrize("top", ["reports", "integrations", "privacy", "devtools"])
def test_a_product_app_importing_the_top_floor_is_caught(tmp_path, app, top):
    graph = plant(tmp_path, {f"{app}/views.py": f"def f():\n    from {top}.x import y\n", f"{top}/x.py": ""})

    assert direction_violations(graph) == [f"{app}.views imports {top}.x"]


def test_importing_upstream_and_leads_importing_learning_are_caught(tmp_path):
    graph = plant(
        tmp_path,
        {
            "leads/scoring.py": "from .learning.apply import terms\nfrom campaigns.api import x\n",
            "leads/learning/apply.py": "from leads.api import Lead\n",
            "leads/api.py": "",
            "campaigns/api.py": "",
        },
    )

    assert direction_violations(graph) == [
        "leads.scoring imports campaigns.api",
        "leads.scoring imports leads.learning.apply (leads.learning registers itself instead)",
    ]


def test_a_cross_app_import_other_than_the_api_is_caught(tmp_path):
    graph = plant(
        tmp_path,
        {
            "crm/models.py": "from leads.models import Lead\nfrom campaigns import api\n",
            "reports/funnel.py": "from crm.api import Deal\nimport leads.selectors\n",
            "leads/models.py": "",
            "leads/selectors.py": "",
            "campaigns/api.py": "",
            "crm/api.py": "from .models import Deal\n",
            "devtools/bench.py": "from leads.models import Lead\n",  # tooling is exempt
        },
    )

    assert door_violations(graph) == [
        "crm.models imports leads.models (only leads.api)",
        "reports.funnel imports leads.selectors (only leads.api)",
    ]
