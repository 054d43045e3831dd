"""Versioned SQL migrations of the PostgreSQL schema, applied in file-name order."""
