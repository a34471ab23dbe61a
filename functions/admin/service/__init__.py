"""The admin function's service, one module per resource."""
