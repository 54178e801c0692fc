"""Streaming a file download's body into a :class:`~nftower._endpoints.Sink`, in chunks, so
that a file never sits in memory whole (sync and async)."""

from __future__ import annotations

import httpx

from ._endpoints import Sink

__all__ = ["CHUNK_SIZE", "astream_body", "stream_body"]

#: Bytes handed to a sink at a time.
CHUNK_SIZE = 64 * 1024


def stream_body(response: httpx.Response, sink: Sink) -> None:
    """Write a 2xx body to ``sink``; read any other body (an error message) in full."""
    try:
        if response.is_success:
            for chunk in response.iter_bytes(CHUNK_SIZE):
                sink.write(chunk)
        else:
            response.read()
    finally:
        response.close()


async def astream_body(response: httpx.Response, sink: Sink) -> None:
    """The async twin of :func:`stream_body`."""
    try:
        if response.is_success:
            async for chunk in response.aiter_bytes(CHUNK_SIZE):
                sink.write(chunk)
        else:
            await response.aread()
    finally:
        await response.aclose()
