"""Where points come in: the HTTP and Socket.IO ingest edges (over ``accept``, the one way a
batch is taken in), the pollers and the demo source, and the bus that carries them.

Nothing here imports the web app (``dashboard.app``); the worker process can use any of it.
Only the composition root (``dashboard.app``, ``runtime``, ``background``, ``cli``) imports it.
"""
