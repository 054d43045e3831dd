"""Alert rules: the pure engine, their store, the runner at work, the service and API."""
