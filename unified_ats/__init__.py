"""unified-ats service."""
