"""The payments function's package (handler: payments.app.handler)."""
