"""Shared infrastructure, the ground floor: it imports no domain app (docs/ARCHITECTURE.md)."""
