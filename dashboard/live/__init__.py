"""The live push: the hub (cursor, coalescing), dependency health and the /live namespace."""
