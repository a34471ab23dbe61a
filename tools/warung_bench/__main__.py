"""`python -m warung_bench`: the same as `make bench`."""

from __future__ import annotations

import sys

from warung_bench.cold import main

if __name__ == "__main__":
    sys.exit(main())
