"""The admin function's models, one module per resource."""
