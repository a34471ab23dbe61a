"""The orders function's integration tests run as that function, on a stage of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.orders_world import STAGE
from support.stacks import provision_stage, reset_function_caches, run_as


@pytest.fixture(scope="module")
def orders_stack(app_stack: Any) -> Any:
    return provision_stage(app_stack.endpoint_url, STAGE)


@pytest.fixture(autouse=True)
def world(app_stack: Any, orders_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    run_as(orders_stack, "OrdersFunction", app_stack.endpoint_url, monkeypatch)
    yield
    reset_function_caches(app_stack.endpoint_url)
