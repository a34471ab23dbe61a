"""The admin function's routes, one module per area (HTTP only)."""
