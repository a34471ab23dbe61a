"""The audit_archive function's package (handler: audit_archive.app.handler)."""
