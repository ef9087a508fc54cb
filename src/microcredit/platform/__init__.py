"""Cross-cutting mechanisms every domain uses: crypto, rate limits, idempotency, key-value."""
