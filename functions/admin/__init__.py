"""The admin function's package (handler: admin.app.handler): operators' routes."""
