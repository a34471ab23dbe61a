"""Warung's shared layer: what every function needs, written once.

Importing this package is cheap on purpose; each module pulls in only what it uses.
"""
