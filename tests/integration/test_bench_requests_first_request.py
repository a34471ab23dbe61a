"""The first-request section of `make bench`: one family measured for real, in a fresh
process against the local runtime's emulation.

Named to run after test_bench_requests.py: the emulation's data outlives a runtime in the
session, and the merchant this one opens for the demo owner would be listed among the demo
merchants of a runtime started after it."""

from __future__ import annotations

import sys
from pathlib import Path

from warung_bench.journey import ChildLayout, run_runtime_sections

ROOT = Path(__file__).resolve().parents[2]


def test_product_read_first_request_runs_and_waits_on_the_emulation(tmp_path: Path) -> None:
    # Given the catalog function laid out from the sources (this environment's Python has
    # its dependencies; the bench proper uses the build and the runtime's Python) and the
    # bare baseline handler
    source_paths = [str(ROOT / "functions"), str(ROOT / "layers" / "common")]
    lambda_env = {"PATH": str(Path(sys.executable).parent), "AWS_ACCESS_KEY_ID": "bench"}
    lambda_env["AWS_SECRET_ACCESS_KEY"] = "bench"
    layouts = {
        "CatalogFunction": ChildLayout("catalog.app.handler", source_paths, tmp_path, lambda_env)
    }
    task_root = tmp_path / "baseline"
    task_root.mkdir()
    baseline = ChildLayout("app.handler", [str(task_root)], task_root, lambda_env)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    # When one round is measured, without the journey's cost
    first, cost = run_runtime_sections(
        ROOT / "template.yaml",
        layouts,
        baseline,
        Path(sys.executable),
        scratch,
        rounds=1,
        warmup=0,
        progress=lambda _line: None,
        cost=False,
    )

    # Then the catalog's families are measured, and reading a product waited on DynamoDB,
    assert "error" not in first, first.get("error")
    assert cost == {"skipped": "--no-cost"}
    rows = {row["name"]: row for row in first["families"]}
    assert set(rows) == {"catalog search", "product read"}
    product = rows["product read"]
    assert product.get("error") is None
    assert product["rounds"] == 1
    assert product["import_ms"] > 0
    assert product["first_ms"] > product["first_wait_ms"] > 0
    assert product["first_ratio"] is not None
    assert product["first_ratio"] > 0
    assert first["baseline"]["first_wait_ms"] > 0
    # and the shape's floor (Powertools, pydantic, a plain botocore client) read the profile
    floor = first["floor"]
    assert floor.get("error") is None, floor.get("error")
    assert floor["rounds"] == 1
    assert floor["first_ms"] > floor["first_wait_ms"] > 0
    assert floor["first_ratio"] > 0
    # and, restored from a snapshot (the catalog has SnapStart on prod), reading a product
    # costs a fraction of a plain cold start: the import and priming came before it
    restored = {row["name"]: row for row in first["restored"]}
    assert set(restored) == {"catalog search (restored)", "product read (restored)"}
    after_restore = restored["product read (restored)"]
    assert after_restore.get("error") is None, after_restore.get("error")
    assert 0 < after_restore["restored_total_ms"] < product["first_total_ms"] / 2
