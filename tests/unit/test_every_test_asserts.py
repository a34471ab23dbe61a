"""Every test says what it expects: an ``assert``, a ``pytest.raises`` or ``pytest.fail``, or
schemathesis' ``call_and_validate``. A test that only calls code passes whatever the code
returns, and so proves nothing."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = {"raises", "fail", "call_and_validate"}


def silent_tests(source: str) -> list[str]:
    """The test functions of ``source`` that check nothing."""
    silent = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            checks = any(
                isinstance(inner, ast.Assert)
                or (isinstance(inner, ast.Attribute) and inner.attr in CHECKS)
                for inner in ast.walk(node)
            )
            if not checks:
                silent.append(node.name)
    return silent


def test_every_test_of_the_suite_checks_something() -> None:
    silent = {
        f"{path.relative_to(ROOT)}::{name}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for name in silent_tests(path.read_text(encoding="utf-8"))
    }
    assert silent == set()


def test_the_check_sees_a_test_that_only_calls() -> None:
    source = (
        "def test_calls():\n    run()\n"
        "def test_asserts():\n    assert run() is None\n"
        "def test_raises():\n    with pytest.raises(E):\n        run()\n"
    )
    assert silent_tests(source) == ["test_calls"]
