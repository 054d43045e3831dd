"""The app database (users, tokens, dashboards, alerts), its audit trail and the schema
migrations."""
