"""The admin function's routes, one module per resource."""
