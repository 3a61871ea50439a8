"""Every third-party package the application imports is pinned in the runtime section of
requirements.txt (above "# Test and lint"), so a production install without the test tools
still has everything the code needs."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_APPLICATION = {"tests", "var", "static", "templates", "docs", "node_modules"}


def _runtime_requirements() -> set[str]:
    text = (ROOT / "requirements.txt").read_text()
    runtime = text.split("# Test and lint")[0]
    names = set()
    for line in runtime.splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(_normalise(re.split(r"[\[=<>!~ ]", line, maxsplit=1)[0]))
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _application_modules() -> set[str]:
    local = {p.name for p in ROOT.iterdir() if p.is_dir()} | {p.stem for p in ROOT.glob("*.py")}
    found = set()
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if (
            parts[0] in NOT_APPLICATION
            or parts[0].startswith(".")
            or "migrations" in parts
            or parts == ("conftest.py",)
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in local}


def test_every_package_the_application_imports_is_a_runtime_requirement():
    distributions = packages_distributions()
    runtime = _runtime_requirements()
    missing = sorted(
        f"{module} ({', '.join(distributions.get(module, ['?']))})"
        for module in _application_modules()
        if not any(_normalise(d) in runtime for d in distributions.get(module, [module]))
    )
    assert missing == []
