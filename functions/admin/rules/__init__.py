"""The admin function's rules, one module per resource."""
