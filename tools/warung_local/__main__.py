"""Run the local runtime's command line: `python -m warung_local --help`."""

import sys

from warung_local.cli import main

if __name__ == "__main__":
    sys.exit(main())
