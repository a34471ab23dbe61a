"""No request path reads a whole table (docs/product.md, System): no Scan in any function
or the layer.

Operator scripts under tools/ may scan; the code that serves requests may not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVING_CODE = sorted(
    [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "common" / "warung").rglob("*.py")]
)


def scan_calls(path: Path) -> list[int]:
    """Lines that call ``.scan(...)`` or name the ``Scan`` operation."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"scan", "parallel_scan"}:
            lines.append(node.lineno)
        if isinstance(node, ast.Constant) and node.value in {"Scan", "DynamoDB_20120810.Scan"}:
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", SERVING_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_serving_code_never_scans(path: Path) -> None:
    assert scan_calls(path) == [], f"{path.relative_to(ROOT)} scans a table"


def test_the_check_sees_a_scan(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("client.scan(TableName='t')\nop = 'Scan'\n", encoding="utf-8")
    assert sorted(scan_calls(sample)) == [1, 2]
