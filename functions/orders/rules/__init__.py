"""The orders function's rules, by concern."""
