"""`make bench`: cold-start imports and package sizes (cold), the first request of each route
family against a bare handler (first), the cost per 1,000 orders (cost; both run on one local
runtime by journey), and warm requests with their DynamoDB calls and capacity units on the
local runtime (warm). `python -m warung_bench`."""
