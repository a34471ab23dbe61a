"""The orders function's integration tests run as that function, on a stage of their own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # orders_support, beside this file
    sys.path.insert(0, str(HERE))

from orders_support import STAGE  # noqa: E402
from support.stacks import provision_stage, reset_function_caches, run_as  # noqa: E402


@pytest.fixture(scope="module")
def orders_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, orders_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_as(orders_stack, "OrdersFunction", app_stack.endpoint_url, monkeypatch)
    yield
    reset_function_caches(app_stack.endpoint_url)
