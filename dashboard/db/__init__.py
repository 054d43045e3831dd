"""The app database (users, tokens, dashboards, alerts) and the schema migrations."""
