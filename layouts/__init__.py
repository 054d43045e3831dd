"""Dash layout functions: the page shell and one module per widget kind."""
