"""The catalog function's package (handler: catalog.app.handler)."""
