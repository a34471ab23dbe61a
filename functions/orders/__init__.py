"""The orders function's package (handler: orders.app.handler)."""

# First, before anything imports Powertools' event handler: its package's __init__ would
# import every resolver it has, asyncio included (docs/decisions/0023).
from warung.resolver_imports import load_event_handler_lazily

load_event_handler_lazily()
