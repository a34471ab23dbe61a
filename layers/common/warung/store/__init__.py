"""Where every item of the main table lives: one module per stored entity.

Each module holds its entity's record (the frozen dataclass the rules work on), its stored
form (``<entity>_item`` and ``<entity>_from``, record to item and back) and its keys, every
``pk``/``sk``/``gsi*`` value it is written or queried with, so that "who reads this item,
and how?" is answered by finding the users of one builder, and a new attribute is added in
one place. A key prefix (``USER#``, ``MERCHANT#``, ...) is spelled in exactly one module
of the serving code (a test holds it), and ``docs/data-model.md``'s key table is checked
against these builders. Repositories keep their queries and transactions and take records,
items and keys from here.
"""
