"""A project's local settings: the `[tool.warung_local]` table of its pyproject.toml.

The local runtime runs any SAM template; what is particular to one project lives in that
project's pyproject.toml, found as pytest and ruff find theirs: the nearest pyproject.toml
in the template's folder or above it. Without one, or without the table, the defaults
below apply (a stack named "local", no parameter overrides, no seeders).

    [tool.warung_local]
    stack_name = "shop-local"                        # names of unnamed resources: <stack>-<Id>
    parameter_overrides = { Stage = "local" }        # template parameters set locally
    api_address_parameters = { WebhookUrl = "/v1/webhook" }  # set to <local API URL><path>
    seeders = ["shop_demo.seeders:accounts"]         # run in order at each start of `dev`
    data_dir = ".local"                              # kept across restarts (relative: to
                                                     # the pyproject.toml's folder)

A seeder is `module:function`, a function `(template, endpoint_url) -> list[str]` (see
`warung_local.seed`). Every mistake is one line naming the file, the key and the value.
Only the standard library is used here: `make reset` runs this with the system Python.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_STACK_NAME = "local"
DEFAULT_DATA_DIR = ".local"
_KNOWN_KEYS = (
    "api_address_parameters",
    "companions",
    "data_dir",
    "parameter_overrides",
    "seeders",
    "stack_name",
)
# CloudFormation's rule for stack names.
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_SEEDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9]+")


class ConfigError(ValueError):
    """The project's `[tool.warung_local]` table cannot be used (a one-line message)."""


@dataclass(frozen=True)
class LocalConfig:
    """What the local runtime needs to know about a project beyond its template."""

    root: Path  # the pyproject.toml's folder (the template's folder when there is none)
    source: Path | None = None  # the pyproject.toml read; None: defaults only
    stack_name: str = DEFAULT_STACK_NAME
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    api_address_parameters: Mapping[str, str] = field(default_factory=dict)
    seeders: tuple[str, ...] = ()
    data_dir: Path | None = None  # absolute; None: `root / DEFAULT_DATA_DIR`
    # "module:function" of local stand-ins of outside services (warung_local.companions).
    companions: tuple[str, ...] = ()

    @property
    def data_folder(self) -> Path:
        """Where `dev` keeps its data and says where it runs (absolute)."""
        return self.data_dir if self.data_dir is not None else self.root / DEFAULT_DATA_DIR

    def api_parameters(self, api_url: str) -> dict[str, str]:
        """The API-address parameters, pointed at the local API whose base URL is `api_url`."""
        base = api_url.rstrip("/")
        return {name: base + path for name, path in self.api_address_parameters.items()}

    def parameters(
        self, api_url: str | None = None, overrides: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Template parameters for a local run: the configured overrides, the API-address
        parameters (when the API's URL is known), then the caller's `overrides`."""
        values = dict(self.parameter_overrides)
        if api_url is not None:
            values.update(self.api_parameters(api_url))
        values.update(overrides or {})
        return values


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` (a folder) or one of its parents."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_config(template_path: str | Path = "template.yaml") -> LocalConfig:
    """The local settings of the project that `template_path` belongs to."""
    folder = Path(template_path).resolve().parent
    source = find_pyproject(folder)
    if source is None:
        return LocalConfig(root=folder)
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read it: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    table = document.get("tool", {}).get("warung_local")
    if table is None:
        return LocalConfig(root=source.parent, source=source)
    return config_from_table(table, source)


def config_from_table(table: Any, source: Path) -> LocalConfig:
    """Check the `[tool.warung_local]` table of `source` and make it a `LocalConfig`."""
    check = _Checks(source)
    if not isinstance(table, dict):
        raise check.fail("", f"expected a table, got {_shown(table)}")
    unknown = sorted(set(table) - set(_KNOWN_KEYS))
    if unknown:
        raise check.fail(unknown[0], f"unknown key (known: {', '.join(_KNOWN_KEYS)})")
    stack_name = table.get("stack_name", DEFAULT_STACK_NAME)
    if not isinstance(stack_name, str) or not _STACK_NAME.fullmatch(stack_name):
        raise check.fail(
            "stack_name",
            "expected letters, digits and hyphens, starting with a letter (at most 128), "
            f"got {_shown(stack_name)}",
        )
    data_dir = table.get("data_dir", DEFAULT_DATA_DIR)
    if not isinstance(data_dir, str) or not data_dir.strip():
        raise check.fail("data_dir", f"expected a folder name, got {_shown(data_dir)}")
    return LocalConfig(
        root=source.parent,
        source=source,
        stack_name=stack_name,
        parameter_overrides=check.string_table(
            table.get("parameter_overrides", {}), "parameter_overrides"
        ),
        api_address_parameters=check.paths(table.get("api_address_parameters", {})),
        seeders=check.seeders(table.get("seeders", [])),
        data_dir=(source.parent / data_dir).resolve(),
        companions=check.seeders(table.get("companions", []), "companions"),
    )


class _Checks:
    """The checks of the table's values, each mistake a `ConfigError` naming file and key."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        where = f"[tool.warung_local] {key}" if key else "[tool.warung_local]"
        return ConfigError(f"{self.source}: {where}: {problem}")

    def string_table(self, value: Any, key: str) -> dict[str, str]:
        """Parameter name -> scalar, as strings (booleans spelled as CloudFormation does)."""
        if not isinstance(value, dict):
            raise self.fail(
                key, f'expected a table such as {{ Name = "value" }}, got {_shown(value)}'
            )
        result: dict[str, str] = {}
        for name, item in value.items():
            if not _PARAMETER_NAME.fullmatch(name):
                raise self.fail(
                    f"{key}.{name}", "a template parameter's name is letters and digits"
                )
            if isinstance(item, bool):
                result[name] = "true" if item else "false"
            elif isinstance(item, (str, int, float)):
                result[name] = str(item)
            else:
                raise self.fail(
                    f"{key}.{name}", f"expected a string or a number, got {_shown(item)}"
                )
        return result

    def paths(self, value: Any) -> dict[str, str]:
        """Parameter name -> a path of the API (starting with '/')."""
        key = "api_address_parameters"
        paths = self.string_table(value, key)
        for name, path in paths.items():
            if not path.startswith("/"):
                raise self.fail(f"{key}.{name}", f"expected a path starting with '/', got {path!r}")
        return paths

    def seeders(self, value: Any, key: str = "seeders") -> tuple[str, ...]:
        """A list of "module:function" strings."""
        if not isinstance(value, list):
            raise self.fail(
                key, f'expected a list of "module:function" strings, got {_shown(value)}'
            )
        for index, spec in enumerate(value):
            if not isinstance(spec, str) or not _SEEDER.fullmatch(spec):
                raise self.fail(
                    f"{key}[{index}]", f'expected "module:function", got {_shown(spec)}'
                )
        return tuple(value)


def _shown(value: Any) -> str:
    """A value as a mistake message shows it: short, with its TOML kind."""
    kinds = {dict: "a table", list: "a list", bool: "a boolean", int: "a number", float: "a number"}
    kind = kinds.get(type(value))
    if kind is None:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return kind if isinstance(value, (dict, list)) else f"{kind} ({value!r})"
