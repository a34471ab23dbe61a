"""The catalog function's models, by entity."""
