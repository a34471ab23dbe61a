"""Event-source drivers stop together: Ctrl-C waits for the slowest invocation in
progress, not for the sum of them (a loaded machine once needed more than 12 s)."""

from __future__ import annotations

import threading

from warung_local.sources import Driver, stop_all


class Busy(Driver):
    """A driver whose invocation runs until it is asked to stop, then finishes."""

    def __init__(self, name: str, started: threading.Barrier, log: list[str]) -> None:
        super().__init__()
        self.name, self.started, self.log = name, started, log
        self.finished = threading.Event()

    def step(self) -> int:
        self.started.wait()
        self._stop.wait()  # an invocation in progress when stop is asked
        self.finished.set()
        return 1

    def request_stop(self) -> None:
        self.log.append(f"ask {self.name}")
        super().request_stop()

    def stop(self, timeout_s: float = 5.0) -> None:
        self.log.append(f"wait {self.name}")
        super().stop(timeout_s)


def test_every_driver_is_asked_before_any_is_waited_for() -> None:
    log: list[str] = []
    started = threading.Barrier(4)
    drivers = [Busy(name, started, log) for name in ("sqs", "stream", "schedule")]
    for driver in drivers:
        driver.start()
    started.wait()  # all three are inside an invocation

    stop_all(drivers, timeout_s=10)

    assert log == [
        "ask sqs",
        "ask stream",
        "ask schedule",
        "wait sqs",
        "wait stream",
        "wait schedule",
    ]
    assert all(driver.finished.is_set() for driver in drivers)
    assert all(driver._thread is None for driver in drivers)
