"""A typed Python client for the unified-ats REST API (httpx + ``schemas`` only)."""
