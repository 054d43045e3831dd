"""Dashboards: the JSON schema and edits, the URL view state, figures, store and API."""
