"""Database backends of the platform (a thin layer over Django's own)."""
