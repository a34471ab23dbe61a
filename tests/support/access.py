"""What each function's code does to DynamoDB, read from the source, and what its IAM policy
in template.yaml allows: the two sides of tests/unit/ops/test_least_privilege.py.

The code side is static. Every key of the main and audit tables is built in one place
(``warung.store``, ``warung.ratelimit``, ``warung.audit``: a unit test holds that), so a
request can be traced back to the builder that made its key:

1. the *reachable code* of a function: the definitions of its handler's package (without the
   modules that are another function's handler) and, transitively, every definition of the
   package or of the layer they name (a module-level name pulls in its module's top level, a
   class all its methods);
2. its *requests*: in that code, every call of a DynamoDB operation (``get_item``,
   ``get_items``, ``partition_query``, a ``Transaction``'s ``put``/``update``/``delete``/
   ``check``, the client's ``*_item`` calls, ``query_items(request)`` and the client's
   ``query(**request)``) and every transaction element (``{"Put": ...}``); a function that
   makes one request with a key its caller gives is a request of its callers, keyed by
   what they pass for its key parameters;
3. the *key prefix* of each request: the builders called in its arguments (a local variable
   is followed to what it was assigned), each builder giving the prefix of the ``pk`` it
   spells; a ``partition_query`` with an ``index`` is a request on that index;
4. for a query given a whole request (a dict literal with a ``TableName``, or what a
   function of the code returns): its table by the setting its ``TableName`` reads
   (``table_name``, ``audit_table_name``), its index by its ``IndexName`` (a constant, a
   local variable, or a dataclass field read at every construction of the class: None
   there, or an ``IndexName`` set only afterwards, is the table itself).

A request whose key cannot be traced is reported, not guessed: the test fails and names it.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
LAYER_DIR = ROOT / "layers" / "common"
PREFIX = re.compile(r"^([A-Z][A-Z_]*#)")

READS = frozenset(
    {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}
)
WRITES = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})
MAIN, AUDIT = "MainTable", "AuditTable"
AUDIT_PREFIXES = frozenset({"DAY#"})


def _audit_indexes() -> frozenset[str]:
    """The audit table's index names, from the template (a query names its index only)."""
    from warung_local.template import load_template

    table = load_template(ROOT / "template.yaml", {"Stage": "prod"}).document["Resources"][AUDIT]
    indexes = table["Properties"].get("GlobalSecondaryIndexes") or []
    return frozenset(str(index["IndexName"]) for index in indexes)


AUDIT_INDEXES = _audit_indexes()

# Operation names, by how they are called.
LAYER_OPERATIONS = {
    "get_item": "dynamodb:GetItem",
    "get_items": "dynamodb:BatchGetItem",
    "partition_query": "dynamodb:Query",
    "query_items": "dynamodb:Query",  # only with a request of its own (not partition_query's)
}
CLIENT_OPERATIONS = {
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
}
# The client's own query, given a whole request (``client.query(**request)``): its table and
# index are read from the request (``TableName``, ``IndexName``).
CLIENT_QUERY = {"query": "dynamodb:Query"}
# The settings that name each table (a request's ``TableName``).
TABLE_SETTINGS = {"table_name": MAIN, "audit_table_name": AUDIT}
TRANSACTION_METHODS = {
    "put": "dynamodb:PutItem",
    "update": "dynamodb:UpdateItem",
    "delete": "dynamodb:DeleteItem",
    "check": "dynamodb:ConditionCheckItem",
}
TRANSACTION_ELEMENTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
# Where requests are assembled for others, not made: the generic helpers themselves (the
# read cache sends what its callers built with them).
MECHANISM = {"warung.dynamo", "warung.readcache"}
# Where keys are built.
BUILDER_MODULES = ("warung.store.", "warung.ratelimit", "warung.audit", "warung.outbox")


@dataclass(frozen=True)
class Request:
    """One DynamoDB request the code makes: on ``table`` (``MainTable``/``AuditTable``) or on
    one of the main table's indexes (``index``), with the key prefix it uses."""

    action: str
    table: str
    prefix: str | None
    index: str | None
    where: str


@dataclass
class Access:
    """What one function does (or may do) to DynamoDB's main and audit tables."""

    # (read|write, key prefix) on the main table, and the actions on the table itself
    main: set[tuple[str, str]] = field(default_factory=set)
    main_actions: set[str] = field(default_factory=set)
    # indexes queried (Query is the only action on an index), of each table
    indexes: set[str] = field(default_factory=set)
    audit_indexes: set[str] = field(default_factory=set)
    audit_actions: set[str] = field(default_factory=set)
    untraced: list[str] = field(default_factory=list)


def kind(action: str) -> str:
    return "read" if action in READS else "write"


# ---------------------------------------------------------------- the code's modules


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: dict[str, str]  # local name -> "module" or "module:attr"
    definitions: dict[str, ast.AST]


def _module_name(path: Path) -> str:
    base = FUNCTIONS_DIR if FUNCTIONS_DIR in path.parents else LAYER_DIR
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _load_modules() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    paths = [*FUNCTIONS_DIR.rglob("*.py"), *(LAYER_DIR / "warung").rglob("*.py")]
    for path in sorted(paths):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules[name] = Module(name, path, tree, {}, {})
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    module.imports[alias.asname or alias.name] = (
                        target if target in modules else f"{node.module}:{alias.name}"
                    )
        for node in module.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.definitions[node.name] = node
    return modules


MODULES = _load_modules()


# ---------------------------------------------------------------- key builders


def _constants() -> dict[str, str]:
    """Module-level string constants of the key builders' modules (``OUTBOX_PREFIX``)."""
    found: dict[str, str] = {}
    for module in MODULES.values():
        if module.name.startswith(BUILDER_MODULES):
            for node in module.tree.body:
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            found[target.id] = node.value.value
    return found


CONSTANTS = _constants()


def _spelled_prefix(value: ast.AST) -> str | None:
    """The ``XYZ#`` a string or f-string starts with."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        found = PREFIX.match(value.value)
        return found.group(1) if found else None
    if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
        return _spelled_prefix(ast.Constant(CONSTANTS.get(value.value.id, "")))
    if isinstance(value, ast.JoinedStr) and value.values:
        return _spelled_prefix(value.values[0])
    return None


def _value_prefixes(value: ast.AST, partitions: dict[str, set[str]]) -> set[str]:
    """The prefixes a ``pk`` value can have: spelled, or made by a partition builder."""
    if prefix := _spelled_prefix(value):
        return {prefix}
    return {p for called in _calls(value) for p in partitions.get(called, set())}


def _calls(node: ast.AST) -> Iterator[str]:
    """The names called in ``node`` (``f(...)`` and ``x.f(...)`` both give ``f``)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Name):
                yield sub.func.id
            elif isinstance(sub.func, ast.Attribute):
                yield sub.func.attr


def _builders() -> tuple[dict[str, set[str]], dict[str, set[str]]]:  # noqa: C901 - a branch per shape of code or policy
    """Each builder's ``pk`` prefixes (key and item builders) and each partition builder's
    (a function returning the partition value alone), by name."""
    defs: dict[str, ast.FunctionDef] = {}
    for module in MODULES.values():
        if module.name.startswith(BUILDER_MODULES):
            for node in module.tree.body:
                # methods by class: ``AuditEntry.as_item``
                methods = (
                    [
                        (f"{node.name}.{m.name}", m)
                        for m in node.body
                        if isinstance(m, ast.FunctionDef)
                    ]
                    if isinstance(node, ast.ClassDef)
                    else [(node.name, node)]
                    if isinstance(node, ast.FunctionDef)
                    else []
                )
                for name, method in methods:
                    assert name not in defs or name.startswith("_"), name
                    defs[name] = method
    pk: dict[str, set[str]] = defaultdict(set)
    partitions: dict[str, set[str]] = defaultdict(set)
    for name, node in defs.items():
        for sub in ast.walk(node):
            prefix = (
                _spelled_prefix(sub.value) if isinstance(sub, ast.Return) and sub.value else None
            )
            if prefix:
                partitions[name].add(prefix)
    for name, node in defs.items():
        for sub in ast.walk(node):
            if isinstance(sub, ast.Dict):
                for key, value in zip(sub.keys, sub.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "pk":
                        pk[name] |= _value_prefixes(value, partitions)
    changed = True
    while changed:  # a builder that spreads another's key has its prefix
        changed = False
        for name, node in defs.items():
            for called in set(_calls(node)) & set(pk):
                if called != name and not pk[called] <= pk[name]:
                    pk[name] |= pk[called]
                    changed = True
    return dict(pk), dict(partitions)


KEY_BUILDERS, PARTITION_BUILDERS = _builders()
BUILDER_NAMES = {
    node.name
    for module in MODULES.values()
    if module.name.startswith(BUILDER_MODULES)
    for node in ast.walk(module.tree)
    if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
}


# ---------------------------------------------------------------- reachable code


def _resolve(module: Module, node: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(module, attribute or None) that a name or attribute chain in ``module`` refers to."""
    if isinstance(node, ast.Name):
        if node.id in module.definitions:
            yield module.name, node.id
        elif node.id in module.imports:
            target = module.imports[node.id]
            if ":" in target:
                owner, name = target.split(":")
                if owner in MODULES:
                    yield owner, name
            elif target in MODULES:
                yield target, None
    elif isinstance(node, ast.Attribute):
        for owner, attr in _resolve(module, node.value):
            if attr is None:
                submodule = f"{owner}.{node.attr}"
                yield (submodule, None) if submodule in MODULES else (owner, node.attr)


def reachable(
    package: str, handler_module: str, other_handlers: Iterable[str]
) -> list[tuple[Module, ast.AST]]:
    """The definitions (and module top levels) a function's code can run."""
    todo: list[tuple[str, str | None]] = [
        (handler_module, attr) for attr in [None, *MODULES[handler_module].definitions]
    ]
    seen: set[tuple[str, str | None]] = set()
    found: list[tuple[Module, ast.AST]] = []
    while todo:
        name, attr = todo.pop()
        if (name, attr) in seen or name not in MODULES:
            continue
        seen.add((name, attr))
        module = MODULES[name]
        if attr is None:
            top = ast.Module(
                body=[
                    n
                    for n in module.tree.body
                    if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                ],
                type_ignores=[],
            )
            # decorated definitions run their decorator at import (routes register themselves)
            nodes: list[ast.AST] = [top] + [
                n
                for n in module.definitions.values()
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.decorator_list
            ]
        elif attr in module.definitions:
            nodes = [module.definitions[attr]]
        else:  # a module-level variable: its module's top level
            todo.append((name, None))
            continue
        for node in nodes:
            found.append((module, node))
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name | ast.Attribute):
                    todo.extend(_resolve(module, sub))
    return found


# ---------------------------------------------------------------- requests and their keys


ANNOTATED = "<annotated>"
ENTRIES = "<entries>"  # ``request["IndexName"] = ...``: (variable, entry) -> values


def _alternatives(value: ast.AST) -> list[ast.AST]:
    """The values a conditional expression can give."""
    if isinstance(value, ast.IfExp):
        return [*_alternatives(value.body), *_alternatives(value.orelse)]
    return [value]


def _assignments(scope: ast.AST) -> dict[str, Any]:  # noqa: C901 - a branch per shape of code or policy
    found: dict[str, Any] = defaultdict(list)
    # parameters annotated with a class: ``job: OutboxJob`` makes ``job.as_item()`` known
    annotated: dict[str, list[str]] = defaultdict(list)
    for node in ast.walk(scope):
        if isinstance(node, ast.arg) and isinstance(node.annotation, ast.Name):
            annotated[node.arg].append(node.annotation.id)
    found[ANNOTATED] = annotated
    entries: dict[tuple[str, str], list[ast.AST]] = defaultdict(list)
    found[ENTRIES] = entries
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and isinstance(target.slice, ast.Constant)
                    and isinstance(target.slice.value, str)
                ):
                    entries[(target.value.id, target.slice.value)].append(node.value)
            for target in node.targets:
                if isinstance(target, ast.Tuple):
                    for value in _alternatives(node.value):
                        if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
                            for element_target, element in zip(
                                target.elts, value.elts, strict=True
                            ):
                                if isinstance(element_target, ast.Name):
                                    found[element_target.id].append(element)
                            continue
                        for named in ast.walk(target):
                            if isinstance(named, ast.Name):
                                found[named.id].append(value)
                    continue
                for named in ast.walk(target):
                    if isinstance(named, ast.Name):
                        found[named.id].append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                found[node.target.id].append(node.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "extend", "add")
            and isinstance(node.func.value, ast.Name)
        ):
            found[node.func.value.id].extend(node.args)
        elif isinstance(node, ast.For | ast.comprehension):
            for named in ast.walk(node.target):
                if isinstance(named, ast.Name):
                    found[named.id].append(node.iter)
    return found


def _real_name(module: Module, name: str) -> str:
    """The defined name behind a local alias (``from m import f as g``: ``g`` is ``f``)."""
    target = module.imports.get(name)
    return re.split(r"[:.]", target)[-1] if target else name


def _called(module: Module, call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return _real_name(module, call.func.id)
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _key_prefixes(  # noqa: C901 - a branch per shape of code or policy
    module: Module,
    nodes: Iterable[ast.AST],
    assigned: dict[str, Any],
    partitions: bool,
) -> set[str]:
    """The pk prefixes of the builders called in ``nodes``, following local variables."""
    prefixes: set[str] = set()
    seen: set[int] = set()
    todo = list(nodes)
    classes: dict[str, list[str]] = assigned.get(ANNOTATED, {})
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                called = _called(module, sub)
                if isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name):
                    for owner in classes.get(sub.func.value.id, ()):
                        prefixes |= KEY_BUILDERS.get(f"{owner}.{called}", set())
                prefixes |= KEY_BUILDERS.get(called, set())
                if partitions:
                    prefixes |= PARTITION_BUILDERS.get(called, set())
            elif isinstance(sub, ast.Dict):
                for key, value in zip(sub.keys, sub.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "pk":
                        prefixes |= _value_prefixes(value, PARTITION_BUILDERS)
            elif (
                isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id != ANNOTATED
            ):
                todo.extend(assigned.get(sub.id, []))
    return prefixes


def _is_builder_call(module: Module, call: ast.Call, assigned: dict[str, Any]) -> bool:
    called = _called(module, call)
    if called in BUILDER_NAMES:
        return True
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        owners = assigned.get(ANNOTATED, {}).get(func.value.id, ())
        return any(f"{owner}.{called}" in KEY_BUILDERS for owner in owners)
    return False


def _bare_parameters(
    module: Module, nodes: Iterable[ast.AST], assigned: dict[str, Any], parameters: set[str]
) -> set[str]:
    """Parameters of the enclosing function that reach a request's key as they are, not
    through a builder: the key comes from the caller, and the reading cannot see it."""
    bare: set[str] = set()
    seen: set[int] = set()
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ast.Call) and _is_builder_call(module, node, assigned):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in assigned and node.id != ANNOTATED:
                todo.extend(assigned[node.id])
            elif node.id in parameters:
                bare.add(node.id)
            continue
        if isinstance(node, ast.Dict):
            # an item: its key attributes, and what it spreads unless a builder gave the key
            keyed = any(
                (k is None and isinstance(v, ast.Call) and _is_builder_call(module, v, assigned))
                or (isinstance(k, ast.Constant) and k.value == "pk")
                for k, v in zip(node.keys, node.values, strict=True)
            )
            todo.extend(
                v
                for k, v in zip(node.keys, node.values, strict=True)
                if (k is None and not keyed)
                or (isinstance(k, ast.Constant) and k.value in ("pk", "sk"))
            )
            continue
        if isinstance(node, ast.DictComp):  # attributes made from a record, never a key
            continue
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            todo.append(node.elt)  # what each key is, not what is iterated
            continue
        todo.extend(ast.iter_child_nodes(node))
    return bare


def _from_callers(
    found: list[tuple[Module, ast.AST]],
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    parameter: str,
    action: str,
    where: str,
) -> Iterator[Request | str]:
    """The requests a function makes with a key its callers give as ``parameter``: traced
    at each call in the reachable code."""
    traced = False
    for module, node in found:
        assigned = _assignments(node)
        for sub in ast.walk(node):
            if not (isinstance(sub, ast.Call) and _called(module, sub) == function.name):
                continue
            given = _argument(sub, function, parameter)
            if given is None:
                continue
            prefixes = _key_prefixes(module, [given], assigned, False)
            if not prefixes:
                yield f"{where}: {action} with a key from the caller ({parameter})"
            for prefix in prefixes:
                traced = True
                table = AUDIT if prefix in AUDIT_PREFIXES else MAIN
                yield Request(action, table, prefix, None, f"{where} <- {module.name}")
    if not traced:
        yield f"{where}: {action} with a key from the caller ({parameter})"


def _parameters(node: ast.AST) -> set[str]:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return set()
    arguments = node.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    return names - {"self", "tx", "table", "client"}


def _operation(module: Module, call: ast.Call, wrappers: dict[str, str]) -> str | None:
    func = call.func
    name = _called(module, call)
    if name in wrappers:
        return wrappers[name]
    if name in LAYER_OPERATIONS or name in CLIENT_OPERATIONS:
        return LAYER_OPERATIONS.get(name) or CLIENT_OPERATIONS[name]
    if (
        isinstance(func, ast.Attribute)
        and name in CLIENT_QUERY
        and any(k.arg in (None, "TableName") for k in call.keywords)
    ):
        return CLIENT_QUERY[name]
    # a Transaction's methods take the table and the key or item: two positional arguments
    if isinstance(func, ast.Attribute) and name in TRANSACTION_METHODS and len(call.args) >= 2:
        return TRANSACTION_METHODS[name]
    return None


def _values(node: ast.AST, assigned: dict[str, Any]) -> list[ast.AST]:
    """What a name was assigned (itself if not a local name)."""
    if isinstance(node, ast.Name) and node.id in assigned:
        return [v for value in assigned[node.id] for v in _values(value, assigned)]
    return [node]


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


WrapperKeys = dict[str, tuple[ast.FunctionDef, set[str]]]


def _wrappers(found: list[tuple[Module, ast.AST]]) -> tuple[dict[str, str], WrapperKeys]:
    """Functions that make one request with a key their caller gives (``_get(key)``), by
    name, with that request's action, and the parameters that give the key: their callers'
    arguments for those parameters are traced instead."""
    wrappers: dict[str, str] = {}
    keys: WrapperKeys = {}
    changed = True
    while changed:
        changed = False
        for module, node in found:
            if not isinstance(node, ast.FunctionDef) or node.name in wrappers:
                continue
            parameters = {a.arg for a in [*node.args.args, *node.args.kwonlyargs]}
            assigned = _assignments(node)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and (action := _operation(module, sub, wrappers)):
                    if _keyword(sub, "index") is not None:
                        continue
                    arguments = (
                        _key_arguments(module, sub, keys)
                        if _called(module, sub) in keys
                        else [
                            *sub.args,
                            *(k.value for k in sub.keywords if k.arg in ("Key", "Item")),
                        ]
                    )
                    given = {
                        n.id
                        for a in arguments
                        for n in ast.walk(a)
                        if isinstance(n, ast.Name) and n.id in parameters - {"tx", "table"}
                    }
                    if not _key_prefixes(module, arguments, assigned, True) and given:
                        wrappers[node.name] = action
                        keys[node.name] = (node, given)
                        changed = True
    return wrappers, keys


def _argument(
    call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str
) -> ast.AST | None:
    """What ``call`` gives ``function``'s ``parameter`` (by keyword or by position)."""
    given = _keyword(call, parameter)
    positional = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    if given is None and parameter in positional:
        position = positional.index(parameter)
        given = call.args[position] if position < len(call.args) else None
    return given


def _key_arguments(module: Module, call: ast.Call, wrapper_keys: WrapperKeys) -> list[ast.AST]:
    """The arguments of a request's call that reach its key: for a wrapper, those of its key
    parameters (``_start_counting(rule, table, key, now)``: ``key``); else a Transaction
    method's table and key (its first two) and the client's ``Key``/``Item``."""
    name = _called(module, call)
    if name in wrapper_keys:
        function, parameters = wrapper_keys[name]
        given = (_argument(call, function, parameter) for parameter in sorted(parameters))
        return [argument for argument in given if argument is not None]
    return [*call.args[:2], *(k.value for k in call.keywords if k.arg in ("Key", "Item"))]


def requests(found: list[tuple[Module, ast.AST]]) -> Iterator[Request | str]:  # noqa: C901 - a branch per shape of code or policy
    """The requests in ``found``; a string where a request's key cannot be traced."""
    wrappers, wrapper_keys = _wrappers(found)
    for module, node in found:
        if module.name in MECHANISM or module.name.startswith("warung.store."):
            continue
        if isinstance(node, ast.FunctionDef) and node.name in wrappers:
            continue
        assigned = _assignments(node)
        for sub in ast.walk(node):
            where = f"{module.name}:{getattr(sub, 'lineno', '?')}"
            if isinstance(sub, ast.Call) and (action := _operation(module, sub, wrappers)):
                if _called(module, sub) in ("query_items", *CLIENT_QUERY):
                    given = [*sub.args, *(k.value for k in sub.keywords if k.arg is None)]
                    built = [v for a in given for v in _values(a, assigned)]
                    if any(
                        isinstance(v, ast.Call) and _called(module, v) == "partition_query"
                        for v in built
                    ):
                        continue  # counted at the partition_query
                    if given:
                        found_requests, on_main = _query_requests(
                            module, given, assigned, found, where
                        )
                        yield from found_requests
                        if not on_main:
                            continue  # else the main table's key, below
                elif action == "dynamodb:Query" and (index_node := _keyword(sub, "index")):
                    index = _literal(index_node, assigned)
                    if index is None:
                        yield f"{where}: the index of a query"
                    for name in index or ():
                        yield Request(action, MAIN, None, name, where)
                    continue
                arguments = [*sub.args, *(k.value for k in sub.keywords if k.arg != "table")]
                prefixes = _key_prefixes(module, arguments, assigned, action == "dynamodb:Query")
                keys = _key_arguments(module, sub, wrapper_keys)
                for parameter in sorted(
                    _bare_parameters(module, keys, assigned, _parameters(node))
                ):
                    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    yield from _from_callers(found, node, parameter, action, where)
                if not prefixes:
                    yield f"{where}: {action} with a key of no known builder"
                for prefix in prefixes:
                    table = AUDIT if prefix in AUDIT_PREFIXES else MAIN
                    yield Request(action, table, prefix, None, where)
            elif isinstance(sub, ast.Dict):
                for key, value in zip(sub.keys, sub.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ELEMENTS:
                        action = TRANSACTION_ELEMENTS[str(key.value)]
                        prefixes = _key_prefixes(module, [value], assigned, False)
                        if not prefixes:
                            yield f"{where}: {action} with a key of no known builder"
                        for prefix in prefixes:
                            table = AUDIT if prefix in AUDIT_PREFIXES else MAIN
                            yield Request(action, table, prefix, None, where)


def _query_requests(
    module: Module,
    given: Iterable[ast.AST],
    assigned: dict[str, Any],
    found: list[tuple[Module, ast.AST]],
    where: str,
) -> tuple[list[Request | str], bool]:
    """The requests of a query given a whole request (``query_items(request)``, the client's
    ``query(**request)``), and whether it may query the main table itself (its key is then
    traced as any other request's)."""
    made: list[Request | str] = []
    shapes = list(_queried(module, given, assigned, found))
    if not shapes:
        made.append(f"{where}: the request of a query")
    on_main = False
    for table, index in shapes:
        if table is None:
            made.append(f"{where}: the table of a query")
        elif index is None and table == MAIN:
            on_main = True
        elif index == "":
            made.append(f"{where}: the index of a query")
        else:
            made.append(Request("dynamodb:Query", table, None, index, where))
    return made, on_main


def _queried(
    module: Module,
    given: Iterable[ast.AST],
    assigned: dict[str, Any],
    found: list[tuple[Module, ast.AST]],
) -> Iterator[tuple[str | None, str | None]]:
    """(table, index) pairs a query's request can name: the table from its ``TableName``
    (None: not a table's setting), the index from its ``IndexName`` (None: the table
    itself, also when ``IndexName`` is only set afterwards, as an option; "": not traced)."""
    for owner, request, scope, names in _request_dicts(module, given, assigned, set()):
        entries = dict(zip(request.keys, request.values, strict=False))
        spelled = {k.value: v for k, v in entries.items() if isinstance(k, ast.Constant)}
        table = _table_of(owner, spelled["TableName"], set())
        values = [spelled["IndexName"]] if "IndexName" in spelled else []
        for name in names:
            values += scope[ENTRIES].get((name, "IndexName"), [])
            values += assigned[ENTRIES].get((name, "IndexName"), [])
        indexes: set[str | None] = set() if "IndexName" in spelled else {None}
        for value in values:
            named = _index_names(owner, value, scope, found)
            indexes |= {""} if named is None else named
        for index in sorted(indexes, key=str):
            yield table, index


def _table_of(module: Module, node: ast.AST, seen: set[int]) -> str | None:
    """The table a ``TableName`` value names: the setting it reads (``get_settings().
    audit_table_name``), there or in what a function of the code returns (``_table()``)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in TABLE_SETTINGS:
            return TABLE_SETTINGS[sub.attr]
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or id(call) in seen:
            continue
        seen.add(id(call))
        for owner, attr in _resolve(module, call.func):
            definition = MODULES[owner].definitions.get(attr or "")
            if isinstance(definition, ast.FunctionDef):
                for returned in ast.walk(definition):
                    if (
                        isinstance(returned, ast.Return)
                        and returned.value is not None
                        and (table := _table_of(MODULES[owner], returned.value, seen))
                    ):
                        return table
    return None


def _request_dicts(
    module: Module, given: Iterable[ast.AST], assigned: dict[str, Any], seen: set[int]
) -> Iterator[tuple[Module, ast.Dict, dict[str, Any], set[str]]]:
    """The requests (dict literals with a ``TableName``) a query can be given, with their
    module, scope and variable names: the value itself, a local variable's, or what a
    function of the code returns (``request = _request(...)``)."""
    for node in given:
        names = {node.id} if isinstance(node, ast.Name) else set()
        for value in _values(node, assigned):
            if isinstance(value, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == "TableName" for k in value.keys
            ):
                yield module, value, assigned, names
            elif isinstance(value, ast.Call) and id(value) not in seen:
                seen.add(id(value))
                for owner, attr in _resolve(module, value.func):
                    definition = MODULES[owner].definitions.get(attr or "")
                    if not isinstance(definition, ast.FunctionDef):
                        continue
                    scope = _assignments(definition)
                    returned = [
                        r.value
                        for r in ast.walk(definition)
                        if isinstance(r, ast.Return) and r.value is not None
                    ]
                    yield from _request_dicts(MODULES[owner], returned, scope, seen)


def _index_names(
    module: Module, node: ast.AST, assigned: dict[str, Any], found: list[tuple[Module, ast.AST]]
) -> set[str | None] | None:
    """The index names ``node`` can give (None: no index), or None if not traced: constants,
    conditional expressions, local variables, and a field of a dataclass
    (``access.index`` with ``access: Access``) read at every construction in the code."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body = _index_names(module, node.body, assigned, found)
        orelse = _index_names(module, node.orelse, assigned, found)
        return None if body is None or orelse is None else body | orelse
    if isinstance(node, ast.Name) and assigned.get(node.id):
        names: set[str | None] = set()
        for value in assigned[node.id]:
            named = _index_names(module, value, assigned, found)
            if named is None:
                return None
            names |= named
        return names
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        classes = assigned.get(ANNOTATED, {}).get(node.value.id, [])
        return _field_values(module, classes, node.attr, found)
    return None


def _field_values(
    module: Module, classes: list[str], field_name: str, found: list[tuple[Module, ast.AST]]
) -> set[str | None] | None:
    """The values a dataclass field is given, at each construction of the class in ``found``."""
    names: set[str | None] = set()
    constructed = False
    for owner, attr in (t for c in classes for t in _resolve(module, ast.Name(c, ast.Load()))):
        definition = MODULES[owner].definitions.get(attr or "")
        if not isinstance(definition, ast.ClassDef):
            continue
        fields = [
            statement.target.id
            for statement in definition.body
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
        ]
        if field_name not in fields:
            continue
        position = fields.index(field_name)
        for place, scope in found:
            for call in ast.walk(scope):
                if not (isinstance(call, ast.Call) and (owner, attr) in _resolve(place, call.func)):
                    continue
                given = _keyword(call, field_name)
                if given is None and position < len(call.args):
                    given = call.args[position]
                if given is None:
                    return None  # a default: not read here
                named = _index_names(place, given, _assignments(scope), found)
                if named is None:
                    return None
                names |= named
                constructed = True
    return names if constructed else None


def _literal(node: ast.AST, assigned: dict[str, Any]) -> set[str] | None:
    """The string values ``node`` can take (constants, conditional expressions, local
    variables assigned those), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal(node.body, assigned), _literal(node.orelse, assigned)
        return None if body is None or orelse is None else body | orelse
    if isinstance(node, ast.Name) and node.id in assigned:
        values: set[str] = set()
        for value in assigned[node.id]:
            found = _literal(value, assigned)
            if found is None:
                return None
            values |= found
        return values
    if isinstance(node, ast.Dict | ast.Tuple | ast.List):
        return None
    return None


def code_access(handler: str, other_handlers: Iterable[str]) -> Access:
    """What the function with ``handler`` (``orders.app.handler``) does to DynamoDB."""
    handler_module = handler.rsplit(".", 1)[0]
    package = handler_module.split(".")[0]
    access = Access()
    for request in requests(reachable(package, handler_module, other_handlers)):
        if isinstance(request, str):
            access.untraced.append(request)
        elif request.index is not None and request.table == AUDIT:
            if request.index not in AUDIT_INDEXES:
                access.untraced.append(f"{request.where}: no audit index {request.index}")
            access.audit_indexes.add(request.index)
        elif request.index is not None:
            access.indexes.add(request.index)
        elif request.table == AUDIT:
            access.audit_actions.add(request.action)
        else:
            assert request.prefix is not None
            access.main.add((kind(request.action), request.prefix))
            access.main_actions.add(request.action)
    return access


# ---------------------------------------------------------------- the policy side


def _statements(policies: Any) -> Iterator[dict[str, Any]]:
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource", [])
    return resource if isinstance(resource, list) else [resource]


def _names(resource: Any) -> tuple[str, str | None] | None:
    """(table, index or "*" or None) that a Resource entry names, if a table."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        target = target if isinstance(target, list) else str(target).split(".", 1)
        if target[1] == "Arn" and target[0] in (MAIN, AUDIT):
            return target[0], None
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = (
            resource["Fn::Sub"] if isinstance(resource["Fn::Sub"], str) else resource["Fn::Sub"][0]
        )
        found = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(.+)", text)
        if found and found.group(1) in (MAIN, AUDIT):
            return found.group(1), found.group(2)
    return None


def policy_access(function: dict[str, Any]) -> Access:  # noqa: C901 - a branch per shape of code or policy
    """What a function's IAM policy allows on the main and audit tables."""
    access = Access()
    properties = function["Properties"]
    for policy in properties.get("Policies", []) or []:
        if isinstance(policy, dict):
            for template_name in (
                "DynamoDBCrudPolicy",
                "DynamoDBReadPolicy",
                "DynamoDBWritePolicy",
            ):
                target = policy.get(template_name, {}).get("TableName", {})
                if isinstance(target, dict) and target.get("Ref") in (MAIN, AUDIT):
                    access.untraced.append(f"{template_name} on {target['Ref']}")
    for statement in _statements(properties.get("Policies", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = {actions} if isinstance(actions, str) else set(actions)
        actions = {a for a in actions if a.startswith("dynamodb:")}
        condition = statement.get("Condition", {})
        leading = (
            condition.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            if condition
            else None
        )
        for resource in _resources(statement):
            named = _names(resource)
            if named is None:
                continue
            table, index = named
            if table == AUDIT and index is not None:
                access.audit_indexes.add(index)
                if actions != {"dynamodb:Query"}:
                    access.untraced.append(f"{sorted(actions)} on index {index}")
            elif table == AUDIT:
                access.audit_actions |= actions
            elif index is not None:
                access.indexes.add(index)
                if actions != {"dynamodb:Query"}:
                    access.untraced.append(f"{sorted(actions)} on index {index}")
            else:
                access.main_actions |= actions
                for prefix in leading or ["*"]:
                    for action in actions:
                        access.main.add((kind(action), str(prefix).removesuffix("*")))
    return access
