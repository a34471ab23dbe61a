"""The ordering kernel: what every function that moves an order shares (the orders
function, the expiry scheduler, the payments function, the worker).

- ``status``: the one way to change an order's status, and what a change gives back
  (stock, promo uses);
- ``notifications``: the e-mails and merchant webhooks a change causes;
- ``lifecycle``: statuses, transitions and who may make them (pure);
- ``payments``: the provider interface and the simulator;
- ``numbers``: the order numbers people read (``WRG-7K4Q-2M9X``), drawn and parsed (pure);
- ``distance``, ``hours``: delivery distance and Jakarta opening hours, shared by the
  catalog's listings and checkout.

The order and payment records, their stored forms and their keys are in
``warung.store.orders`` and ``warung.store.payments`` (docs/data-model.md).
"""
