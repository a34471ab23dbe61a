"""`make bench`: cold-start imports and package sizes (cold), and warm requests with their
DynamoDB calls and capacity units on the local runtime (warm). `python -m warung_bench`."""
