"""`make simulate`: a synthetic day on the local runtime, the DynamoDB key heat it makes, and
what that heat and the account's quotas become at a target peak (docs/capacity.md)."""
