"""Push: envelope, per-record reading and decisions, bulk writes, locks, idempotency, async jobs."""
