"""A Docker-free local runtime for SAM templates (Warung's `make dev`).

It reads `template.yaml`, starts an embedded AWS emulation (moto), creates the
template's tables, queues and secrets in it, runs each function's handler in-process
with its layer and environment, routes HTTP requests as API Gateway would, and drives
the queue, stream and schedule event sources. `python -m warung_local --help` lists
the commands.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
