"""The catalog function's routes, by entity."""
