"""The outbox_relay function's package (handler: outbox_relay.app.handler)."""
