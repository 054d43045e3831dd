"""The Retry-After of a refused batch survives the rate limiter's headers (no root needed)."""

from __future__ import annotations

import time


def test_ingest_refused_with_the_store_down_says_retry_after_one_second(app, anon_client):
    """With the embedded store unusable, ingest answers 503 with ``Retry-After: 1`` (the
    limiter used to rewrite it to 0, an invitation to retry at once)."""
    app.extensions["dashboard"].store.close()
    body = {"metrics": [{"name": "fault.down", "points": [[int(time.time() * 1000), 1.0]]}]}
    answers = []
    for _ in range(6):  # over more than a second: the limiter's window is a second
        response = anon_client.post(
            "/api/v1/ingest", json=body, headers={"Authorization": "Bearer test-ingest-token"}
        )
        assert "X-RateLimit-Limit" in response.headers  # a rate-limited route
        answers.append((response.status_code, response.headers["Retry-After"]))
        time.sleep(0.25)
    assert answers == [(503, "1")] * 6
