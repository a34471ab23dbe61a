"""The admin function's pure rules, one module per area."""
