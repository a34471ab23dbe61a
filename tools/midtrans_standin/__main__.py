"""``python -m midtrans_standin --server-key KEY --notify URL [--port 3100]``."""

from __future__ import annotations

import argparse
import threading

from midtrans_standin.server import StandIn


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(prog="midtrans_standin")
    parser.add_argument("--server-key", required=True)
    parser.add_argument("--notify", default="", help="where notifications are POSTed")
    parser.add_argument("--port", type=int, default=3100)
    args = parser.parse_args()
    key = str(args.server_key)
    stand_in = StandIn(lambda: key, notification_url=args.notify, port=args.port).start()
    print(f"Midtrans stand-in on {stand_in.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        stand_in.stop()


if __name__ == "__main__":
    main()
