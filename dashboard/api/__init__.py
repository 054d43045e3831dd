"""What every API shares: JSON errors, the OpenAPI description, /healthz and /metrics."""
