"""The auth function's rules, by concern."""
