"""One module per widget kind: its card body and figure."""
