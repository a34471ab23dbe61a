"""The list of audit actions (what GET /v1/admin/audit?action= accepts) is whole: every
action any code writes, through ``audited(...)`` or ``AuditEntry(...)``, is in it."""

from __future__ import annotations

import ast
from pathlib import Path

from warung.audit import AUDIT_ACTIONS
from warung.ordering.lifecycle import OrderStatus

ROOT = Path(__file__).resolve().parents[3]
WRITERS = sorted(
    [
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "layers" / "common" / "warung").rglob("*.py"),
        *(ROOT / "tools" / "warung_ops").rglob("*.py"),
    ]
)
HELPERS = ROOT / "layers" / "common" / "warung" / "audit.py"  # forwards its callers' actions
ACTION_POSITION = {"audited": 1, "AuditEntry": 1}


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _action_argument(node: ast.Call) -> ast.expr | None:
    name = _called(node)
    if name not in ACTION_POSITION:
        return None
    for keyword in node.keywords:
        if keyword.arg == "action":
            return keyword.value
    position = ACTION_POSITION[name]
    return node.args[position] if len(node.args) > position else None


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _values_of(name: str, function: ast.AST, module: ast.Module) -> set[str]:
    """The strings a variable can hold: what it is assigned in its function, or, for a
    parameter, what the module's calls of that function pass for it."""
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Subscript):  # {key: "action", ...}[key]
                value = value.value
            found |= {s for s in _strings(value) if "." in s}
    if found or not isinstance(function, ast.FunctionDef):
        return found
    parameters = [a.arg for a in function.args.args]
    if name not in parameters:
        return found
    index = parameters.index(name)
    for call in ast.walk(module):
        if isinstance(call, ast.Call) and _called(call) == function.name:
            passed = [k.value for k in call.keywords if k.arg == name]
            passed += call.args[index : index + 1]
            for each in passed:
                found |= _strings(each)
    return found


def written_actions() -> dict[str, set[str]]:
    """Every action string the code writes, with where (``path:line``)."""
    written: dict[str, set[str]] = {}
    for path in WRITERS:
        if path == HELPERS:
            continue
        module = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(module) if isinstance(n, ast.FunctionDef)]
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            action = _action_argument(node)
            if action is None:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                values = {action.value}
            elif isinstance(action, ast.Name):
                home = next(
                    f
                    for f in functions
                    if f.lineno <= node.lineno <= (f.end_lineno or 0)
                    and any(n is node for n in ast.walk(f))
                )
                values = _values_of(action.id, home, module)
            elif isinstance(action, ast.JoinedStr):
                prefix = "".join(str(v.value) for v in action.values if isinstance(v, ast.Constant))
                values = {f"{prefix}{status}" for status in OrderStatus} - {
                    f"{prefix}{OrderStatus.PENDING_PAYMENT}"
                }
                assert prefix == "order.", f"{where}: an action made at run time: {prefix}..."
            else:
                raise AssertionError(f"{where}: an action this test cannot read")
            assert values, f"{where}: no action found for {ast.unparse(action)}"
            for value in values:
                written.setdefault(value, set()).add(where)
    return written


def test_every_action_the_code_writes_is_in_the_list() -> None:
    written = written_actions()
    missing = {
        action: sorted(where) for action, where in written.items() if action not in AUDIT_ACTIONS
    }
    assert missing == {}


def test_the_list_holds_only_actions_the_code_writes() -> None:
    assert set(AUDIT_ACTIONS) - set(written_actions()) == set()
    assert len(AUDIT_ACTIONS) == len(set(AUDIT_ACTIONS))


def test_the_walk_sees_actions_chosen_at_run_time() -> None:
    written = written_actions()
    assert "auth.password_reset" in written  # a parameter, passed by its callers
    assert "payment.refunded" in written  # a mapping's value
    assert "order.expired" in written  # an f-string over the order's statuses
