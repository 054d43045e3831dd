"""PromQL over the store: the pure engine (parse, select, evaluate), its service and the
Prometheus-compatible HTTP API (``/prometheus/api/v1``)."""
