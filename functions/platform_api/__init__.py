"""The platform_api function's package (handler: platform_api.app.handler)."""
