"""The admin function's repository, one module per resource."""
