"""Every function keeps the same rooms, and imports only go down them (docs/architecture.md):

    routes (HTTP only) → service (use cases) → rules (pure) / repository (queries) ; models

- rules import nothing of the other rooms, and nothing that talks to AWS;
- routes never touch the repository (they call a service);
- the repository and the service never import routes;
- no function imports another function's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
PACKAGES = sorted(p.name for p in FUNCTIONS.iterdir() if (p / "__init__.py").is_file())
ROOMS = ("routes", "service", "rules", "repository", "models")
AWS = ("boto3", "botocore", "warung.dynamo", "warung.clients", "warung.secrets")
FORBIDDEN = {
    "rules": {"routes", "service", "repository", "models", "app"},
    "routes": {"repository"},
    "service": {"routes", "app"},
    "repository": {"routes", "service", "app"},
    "models": {"routes", "service", "repository", "app"},
}


def room_of(module: str) -> str:
    """``catalog.rules.geo`` → ``rules``; entry points and adapters are named for themselves."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path, package: str) -> list[str]:
    """Every module a file imports (at module level or lazily), as absolute names."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolve against the file's package
                here = path.relative_to(FUNCTIONS).with_suffix("").parts[: -node.level]
                base = ".".join([*here, node.module])
            found.append(base)
            if base.split(".", 1)[0] in PACKAGES:  # `from catalog import service`: a module
                found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTIONS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def violations(package: str) -> list[str]:
    problems = []
    for path in sorted((FUNCTIONS / package).rglob("*.py")):
        module = module_name(path)
        room = room_of(module)
        for imported in imports_of(path, package):
            top = imported.split(".", 1)[0]
            if top in PACKAGES and top != package:
                problems.append(f"{module} imports another function: {imported}")
            if top == package and room_of(imported) in FORBIDDEN.get(room, set()):
                problems.append(f"{module} ({room}) imports {imported} ({room_of(imported)})")
            if room == "rules" and imported.startswith(AWS):
                problems.append(f"{module} (rules) imports {imported}, which talks to AWS")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_go_down_the_rooms(package: str) -> None:
    assert violations(package) == []


def test_every_function_with_routes_has_the_same_rooms() -> None:
    http = [
        p
        for p in PACKAGES
        if (FUNCTIONS / p / "routes").exists() or (FUNCTIONS / p / "routes.py").exists()
    ]
    assert sorted(http) == ["admin", "auth", "catalog", "orders", "payments"]
    for package in http:
        rooms = {
            entry.name.removesuffix(".py")
            for entry in (FUNCTIONS / package).iterdir()
            if entry.name.removesuffix(".py") in ROOMS
        }
        assert rooms == set(ROOMS), package
        assert (FUNCTIONS / package / "app.py").is_file(), f"{package}: the entry point"


def test_the_check_sees_a_rule_that_reads_the_table(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from catalog import repository\n"
        "from catalog.repository import merchants\n"
        "from warung.dynamo import get_item\n"
        "def f():\n"
        "    import orders.service\n",
        encoding="utf-8",
    )
    assert imports_of(sample, "catalog") == [
        "catalog",
        "catalog.repository",
        "catalog.repository",
        "catalog.repository.merchants",
        "warung.dynamo",
        "orders.service",
    ]
    assert room_of("catalog.repository.merchants") == "repository"
    assert room_of("orders.idempotency") == "idempotency"
