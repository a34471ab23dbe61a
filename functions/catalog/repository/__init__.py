"""The catalog function's repository, by entity."""
