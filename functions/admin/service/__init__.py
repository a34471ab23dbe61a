"""The admin function's use cases, one module per area."""
