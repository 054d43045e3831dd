"""Serving the page: the lean Dash index, pre-compressed static files, vendored JS."""
