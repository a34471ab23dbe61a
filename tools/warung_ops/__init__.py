"""Operator commands for a deployed stage (and the local one): accounts and signing keys.

    python -m warung_ops.accounts create-admin EMAIL [--stage local|dev|prod]
    python -m warung_ops.signing_keys rotate [--stage local|dev|prod]

`make create-admin` and `make rotate-signing-key` run them."""
