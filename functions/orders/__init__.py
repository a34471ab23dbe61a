"""The orders function's package (handler: orders.app.handler)."""
