"""Operator commands for a deployed stage (and the local one): accounts, signing keys and the
stack's outputs.

    python -m warung_ops.accounts create-admin EMAIL [--stage local|dev|prod]
    python -m warung_ops.signing_keys rotate [--stage local|dev|prod]
    python -m warung_ops.stack_outputs ApiUrl [--env dev|prod]

`make create-admin`, `make rotate-signing-key` and `make api-url` run them."""
