"""The catalog function's rules, by entity."""
