"""No exception instance lives at module or class level in the serving code.

A Lambda environment serves many invocations with the same modules. An error object made
once and raised by every request that hits it carries each request's traceback into the
next (the frames pile up, and with them the locals of earlier requests). Errors are made
where they are raised, or by a factory function called there.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

from warung import errors

ROOT = Path(__file__).resolve().parents[2]
SERVING_CODE = sorted(
    [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "common" / "warung").rglob("*.py")]
)
KNOWN_ERRORS = {
    name
    for source in (builtins, errors)
    for name, value in vars(source).items()
    if inspect.isclass(value) and issubclass(value, BaseException)
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def error_classes(trees: list[ast.Module]) -> set[str]:
    """Every exception class name: the built-in ones, the layer's, and subclasses of those
    defined anywhere in ``trees`` (to a fixed point: a subclass of a subclass counts)."""
    known = set(KNOWN_ERRORS)
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while True:
        more = {c.name for c in classes if any(_name(base) in known for base in c.bases)}
        if more <= known:
            return known
        known |= more


def shared_errors(tree: ast.Module, classes: set[str]) -> list[int]:
    """Lines that make an error at module level or in a class body."""
    scopes: list[list[ast.stmt]] = [tree.body]
    scopes += [node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    lines = []
    for body in scopes:
        for statement in body:
            value = statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
            if value is None:
                continue
            made = [
                node
                for node in ast.walk(value)
                if isinstance(node, ast.Call) and _name(node.func) in classes
            ]
            # A lambda or comprehension makes its error when called, not at import.
            deferred = any(isinstance(n, ast.Lambda) for n in ast.walk(value))
            if made and not deferred:
                lines.append(statement.lineno)
    return lines


TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SERVING_CODE}
CLASSES = error_classes(list(TREES.values()))


@pytest.mark.parametrize("path", SERVING_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_error_instance_is_made_at_import(path: Path) -> None:
    assert shared_errors(TREES[path], CLASSES) == [], (
        f"{path.relative_to(ROOT)} makes an error instance at import: make it where it is "
        "raised, or in a factory function"
    )


def test_the_check_sees_a_shared_error() -> None:
    sample = ast.parse(
        "class Gone(Conflict):\n"
        "    pass\n"
        "class Late(Gone):\n"
        "    pass\n"
        "CHANGED = Conflict('changed')\n"
        "LATE: Late = Late('late')\n"
        "class Repo:\n"
        "    MISSING = errors.NotFound('missing')\n"
        "    fine = 3\n"
        "def made_per_call() -> Conflict:\n"
        "    return Conflict('fresh')\n"
        "factory = lambda: ValueError('fresh')\n"
    )
    assert shared_errors(sample, error_classes([sample])) == [5, 6, 8]
