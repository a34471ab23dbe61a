"""The worker function's package (handler: worker.app.handler)."""
