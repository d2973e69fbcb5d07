"""Outbound events: what changed, told to the tenant's webhook endpoints (Standard Webhooks).

``catalog`` names the events, ``outbox`` writes them in the transaction of the change,
``endpoints`` keeps where they go, ``delivery`` sends them, ``targets`` refuses private
addresses.
"""
