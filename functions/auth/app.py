"""The auth function's Lambda entry point: its routes on the shared resolver (the
decorator stack, validation, problem+json errors: warung.api)."""

from __future__ import annotations

from auth import routes
from warung import snapstart
from warung.api import create_app, make_handler

app = create_app()
app.include_router(routes.router)
handler = make_handler(app)
snapstart.install(app)  # SnapStart's hooks (docs/decisions/0025-snapstart.md)
