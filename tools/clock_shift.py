"""Run the test suite at another hour: shift the wall clock of every Python process.

    python tools/clock_shift.py install          # once per virtual environment (make setup)
    python tools/clock_shift.py offset 2026-12-05T20:00:00Z   # seconds from now to then

`make test-clock AT=<RFC 3339 time>` computes the offset once, exports it as
``WARUNG_CLOCK_OFFSET_S`` and runs the suite. Every interpreter of the virtual environment
(pytest, the local runtime, its event-sources child, the seed scripts, the emulation)
imports this module at start-up through a ``.pth`` file that ``install`` writes into
site-packages; with the variable set it starts a ticking ``time_machine`` travel to
"real now + offset". Without the variable it does nothing.

- Wall clocks move (``time.time``, ``datetime.now``, ``date.today``, ``gmtime``,
  ``localtime``); monotonic clocks do not, so timeouts, ``sleep`` and timed waits behave.
- An offset, not an absolute time, is passed on: a child started two seconds after its
  parent is then two seconds later, as it would be without the shift.
- Starting twice is harmless (a ``.pth`` processed twice must not double the offset).
- OpenSSL reads the real clock: certificates made by tests must be valid far enough
  around now (the tests' own certificates are valid ±10 years).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

ENV = "WARUNG_CLOCK_OFFSET_S"
MODULE = "warung_clock_shift"  # the name this file has once installed in site-packages

_travel: Any = None  # the running time_machine travel of this process, once started


def start() -> float | None:
    """Shift this process's wall clock by ``$WARUNG_CLOCK_OFFSET_S``; the offset in force."""
    global _travel  # noqa: PLW0603 - one travel per process, started once
    if _travel is not None:
        return float(os.environ.get(ENV, "0") or 0)
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    offset_s = float(raw)
    import time

    import time_machine

    _travel = time_machine.travel(time.time() + offset_s, tick=True)
    _travel.start()
    # A ticking travel starts ticking at its first reading, not when it starts: read it now,
    # or the process falls behind by the time until its first reading.
    time.time()
    return offset_s


def offset_to(at: str) -> float:
    """Seconds from the real now to ``at`` (RFC 3339 with a zone, e.g. ``…T20:00:00Z``)."""
    target = datetime.fromisoformat(at.replace("Z", "+00:00").replace("z", "+00:00"))
    if target.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone; write it as 2026-12-05T20:00:00Z")
    return round(target.timestamp() - _real_now(), 3)


def _real_now() -> float:
    """The unshifted time, also from a process whose clock is already shifted."""
    import time

    installed = sys.modules.get(MODULE)
    shifted = _travel is not None or getattr(installed, "_travel", None) is not None
    return time.time() - (float(os.environ.get(ENV, "0") or 0) if shifted else 0.0)


def install() -> list[str]:
    """Put this module and its ``.pth`` hook into the running interpreter's site-packages."""
    import sysconfig
    from pathlib import Path

    site = Path(sysconfig.get_paths()["purelib"])
    module = site / f"{MODULE}.py"
    hook = site / f"{MODULE}.pth"
    module.write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
    # A `.pth` line that starts with "import" is executed at start-up.
    hook.write_text(f"import {MODULE}; {MODULE}.start()\n", encoding="utf-8")
    return [str(module), str(hook)]


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"] and len(argv) == 1:
        for path in install():
            print(f"installed {path}")
        return 0
    if argv[:1] == ["offset"] and len(argv) == 2:
        try:
            print(offset_to(argv[1]))
        except ValueError as error:
            print(f"clock_shift: {error}", file=sys.stderr)
            return 2
        return 0
    print("usage: clock_shift.py install | offset <RFC 3339 time>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
