"""The admin function's request and response shapes, one module per area."""
