"""CSV and PDF exports: the pure CSV and report builders, the kaleido pool, the routes."""
