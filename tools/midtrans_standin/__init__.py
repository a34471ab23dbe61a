"""A local stand-in of Midtrans Snap (``python -m midtrans_standin``; see ``server``)."""

from midtrans_standin.server import StandIn, signature_key

__all__ = ["StandIn", "signature_key"]
