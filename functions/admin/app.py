"""The admin function's Lambda entry point: the routers of its areas on the shared resolver
(the decorator stack, validation, problem+json errors: warung.api)."""

from __future__ import annotations

from admin.routes import audit, dead_letters, payments
from warung.api import create_app, make_handler

app = create_app()
app.include_router(audit.router)
app.include_router(dead_letters.router)
app.include_router(payments.router)
handler = make_handler(app)
