"""`python -m warung_load`: see `warung_load.cli`."""

from warung_load.cli import main

raise SystemExit(main())
