"""Demo data of the local runtime, made through the functions' own code (the demo accounts
are made by `warung_ops.accounts seed-demo`)."""
