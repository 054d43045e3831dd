"""Where points come in: the HTTP ingest API, the demo source, and the bus that carries them.

Nothing here imports the web app (``dashboard.app``); the worker process can use any of it.
"""
