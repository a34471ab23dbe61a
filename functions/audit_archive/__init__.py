"""The audit_archive function's package (handler: audit_archive.app.handler)."""

# First, before Powertools' batch processor imports its record classes: the data classes
# package's __init__ would import the event class of every AWS service (docs/decisions/0033).
from warung.resolver_imports import load_data_classes_lazily

load_data_classes_lazily()
