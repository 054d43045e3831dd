"""One module per widget kind: its card body (its figure: ``dashboard/boards/figures.py``)."""
