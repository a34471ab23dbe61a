"""The auth function's package (handler: auth.app.handler)."""
