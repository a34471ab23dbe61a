"""The project's local settings: `[tool.warung_local]` of the nearest pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from warung_local.cli import main
from warung_local.config import ConfigError, find_pyproject, load_config
from warung_local.seed import load_seeder, run_seeders
from warung_local.template import load_template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = """\
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
"""


def _project(folder: Path, table: str | None) -> Path:
    """A project folder with a template and, unless `table` is None, a pyproject.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    if table is not None:
        (folder / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n{table}", "utf-8")
    template = folder / "template.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    return template


def test_without_a_pyproject_the_defaults_apply(tmp_path: Path) -> None:
    template = _project(tmp_path / "app", None)
    assert find_pyproject(template.parent) is None  # nothing above tmp_path either

    config = load_config(template)

    assert config.source is None
    assert (config.stack_name, dict(config.parameter_overrides), config.seeders) == (
        "local",
        {},
        (),
    )
    assert config.data_folder == template.parent / ".local"
    assert load_template(template).tables["Things"].name == "local-Things"


def test_a_pyproject_without_the_table_gives_the_defaults_next_to_it(tmp_path: Path) -> None:
    template = _project(tmp_path / "app", "[tool.ruff]\nline-length = 100\n")

    config = load_config(template)

    assert config.source == tmp_path / "app" / "pyproject.toml"
    assert (config.stack_name, config.seeders) == ("local", ())
    assert config.data_folder == tmp_path / "app" / ".local"


def test_the_nearest_pyproject_at_or_above_the_template_wins(tmp_path: Path) -> None:
    _project(tmp_path / "outer", '[tool.warung_local]\nstack_name = "outer-local"\n')
    _project(tmp_path / "outer" / "inner", '[tool.warung_local]\nstack_name = "inner-local"\n')
    deeper = _project(tmp_path / "outer" / "inner" / "infra" / "stack", None)
    beside = _project(tmp_path / "outer" / "beside", None)

    assert load_config(deeper).stack_name == "inner-local"
    assert load_config(beside).stack_name == "outer-local"
    assert load_template(deeper).tables["Things"].name == "inner-local-Things"


def test_every_setting_is_read(tmp_path: Path) -> None:
    template = _project(
        tmp_path / "app",
        "[tool.warung_local]\n"
        'stack_name = "shop-local"\n'
        'parameter_overrides = { Stage = "local", Simulate = true, Retries = 3 }\n'
        'api_address_parameters = { HookUrl = "/v1/hook" }\n'
        'seeders = ["shop.seed:accounts", "shop.seed:menus"]\n'
        'data_dir = "var/local-data"\n',
    )

    config = load_config(template)

    assert config.stack_name == "shop-local"
    assert config.parameter_overrides == {"Stage": "local", "Simulate": "true", "Retries": "3"}
    assert config.seeders == ("shop.seed:accounts", "shop.seed:menus")
    assert config.data_folder == tmp_path / "app" / "var" / "local-data"
    # API-address parameters point at the local API; the caller's overrides win last.
    assert config.parameters("http://127.0.0.1:3001/", {"Stage": "test"}) == {
        "Stage": "test",
        "Simulate": "true",
        "Retries": "3",
        "HookUrl": "http://127.0.0.1:3001/v1/hook",
    }


def test_this_repository_keeps_its_stack_derived_names() -> None:
    config = load_config(REPO / "template.yaml")

    assert config.stack_name == "warung-local"
    assert config.parameter_overrides["Stage"] == "local"
    assert config.data_folder == REPO / ".local"
    template = load_template(REPO / "template.yaml", config.parameters("http://127.0.0.1:3000"))
    assert template.stack_name == "warung-local"
    assert template.tables["MainTable"].name == "warung-local-main"
    worker = template.functions["WorkerFunction"].environment
    assert worker["PAYMENT_WEBHOOK_URL"] == "http://127.0.0.1:3000/v1/payments/webhook"
    assert [load_seeder(spec).__name__ for spec in config.seeders] == [
        "signing_key",
        "demo_accounts",
        "demo_merchants",
    ]


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ("stack_name = 'two words'", "stack_name", "got 'two words'"),
        ("stack_name = 7", "stack_name", "got a number (7)"),
        ("parameter_overrides = ['Stage=local']", "parameter_overrides", "got a list"),
        ("parameter_overrides = { Stage = { a = 1 } }", "parameter_overrides.Stage", "a table"),
        ("api_address_parameters = { Hook = 'v1/hook' }", "api_address_parameters.Hook", "'/'"),
        ("seeders = 'shop.seed:accounts'", "seeders", "got 'shop.seed:accounts'"),
        ("seeders = ['shop.seed:accounts', 'shop.seed']", "seeders[1]", "got 'shop.seed'"),
        ("data_dir = ''", "data_dir", "expected a folder name"),
        ("seeder = []", "seeder", "unknown key (known: api_address_parameters,"),
    ],
)
def test_a_bad_value_is_a_one_line_error_naming_file_and_key(
    tmp_path: Path, table: str, key: str, problem: str
) -> None:
    template = _project(tmp_path / "app", f"[tool.warung_local]\n{table}\n")

    with pytest.raises(ConfigError) as raised:
        load_config(template)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'app' / 'pyproject.toml'}: [tool.warung_local] {key}:")
    assert problem in message


def test_a_pyproject_that_is_not_toml_is_a_one_line_error(tmp_path: Path) -> None:
    template = _project(tmp_path / "app", "[tool.warung_local\nstack_name = 'x'\n")

    with pytest.raises(ConfigError, match=r"pyproject.toml: not valid TOML: .*line 4") as raised:
        load_config(template)
    assert "\n" not in str(raised.value)


def test_the_command_line_reports_a_bad_setting_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = _project(tmp_path / "app", "[tool.warung_local]\nstack_name = 'a b'\n")

    code = main(["event", "GET", "/things", "--template", str(template)])

    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert "[tool.warung_local] stack_name" in err


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("no_such_module_here:seed", "cannot import no_such_module_here"),
        ("warung_demo.seeders:no_such_seeder", "warung_demo.seeders has no function"),
    ],
)
def test_a_seeder_that_does_not_exist_is_named_before_any_seeder_runs(
    spec: str, problem: str
) -> None:
    template = load_template(REPO / "template.yaml")

    with pytest.raises(ConfigError, match=problem):
        run_seeders(template, "http://127.0.0.1:1", ["warung_demo.seeders:signing_key", spec])
