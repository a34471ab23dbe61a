"""Unit tests of the auth function import its modules (``domain``, ``passwords``, ...)
by their own names, as the function does in Lambda."""

from __future__ import annotations

import sys
from pathlib import Path

AUTH_FUNCTION = Path(__file__).resolve().parents[3] / "functions" / "auth"
if str(AUTH_FUNCTION) not in sys.path:
    sys.path.insert(0, str(AUTH_FUNCTION))
