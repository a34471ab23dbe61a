"""`make load`: a locust load test of the API (docs/performance.md, "Load test").

- `scenario`: what the simulated customers do, in which ratios, and which answers fail a run
  (pure; no locust import).
- `locustfile`: the locust users that play the scenario over HTTP.
- `pool`: the accounts they sign in with and the merchant they order from, created directly
  in the tables through the functions' own code (never through sign-up).
- `cli` (`python -m warung_load`): starts a local runtime unless `API_URL` is given, creates
  the pool, runs locust headless and prints the per-route table.
"""
