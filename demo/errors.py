class SeedError(Exception):
    """The seed cannot go on; nothing was written."""
