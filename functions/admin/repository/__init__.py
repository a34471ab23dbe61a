"""The admin function's queries, one module per area."""
