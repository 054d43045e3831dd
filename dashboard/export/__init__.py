"""CSV and PDF exports: the pure CSV and report builders, the service, the kaleido pool, the
routes."""
