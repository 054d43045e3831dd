"""A room's websocket frame, built once for all its viewers, as a browser's client reads it."""

from __future__ import annotations

import pytest
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import TextMessage

from dashboard.live.transport import text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_text_frame_of_any_length_reads_back_whole(size):
    """Each length encoding (7 bits, 16 bits, 64 bits) gives one final text message."""
    text = "4" + "é" * (size // 2) + "x" * (size % 2)
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(text_frame(text))
    events = list(client.events())
    assert len(events) == 1
    assert isinstance(events[0], TextMessage)
    assert events[0].message_finished
    assert events[0].data == text
