"""The catalog function's service, by entity."""
