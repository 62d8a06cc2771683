"""Streamed answers (audio, CSV exports, static files) under ASGI, sent from the event
loop.

Django serves a sync iterator under ASGI by reading it whole into memory first: an hour
of audio or a million-row CSV would be held in memory before its first byte went out.
So under ASGI each streamed answer's chunks are pulled, one at a time, in the request's
own thread (where the view ran, so a database cursor it opened is still its own), and
sent from the event loop, which waits for a slow or paused reader without holding a
thread of any pool. Under WSGI (runserver, the tests' live servers) nothing changes.

Either way, the audio bytes that pass are counted for /metrics (recordings_app/metrics.py).
"""

from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django import db
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

from recordings_app import metrics


def stream_from_the_loop(get_response):
    def middleware(request):
        response = get_response(request)
        if not response.streaming or response.is_async:
            return response
        if metrics.route_name(request) in metrics.AUDIO_ROUTES:
            response.streaming_content = counted_as_audio(response.streaming_content)
        if isinstance(request, ASGIRequest):
            response.streaming_content = pulled_in_a_thread(response.streaming_content)
        return response

    return middleware


async def pulled_in_a_thread(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    iterator = iter(chunks)
    # thread_sensitive: inside a request, that request's own thread.
    pull = sync_to_async(_next_or_none, thread_sensitive=True)
    try:
        while (chunk := await pull(iterator)) is not None:
            yield chunk
    finally:
        # Also when the reader went away and the send was cancelled (Django then does
        # not close the response): let go of SignalWire's stream or the database cursor,
        # in the thread that holds it, once any read under way there has returned.
        if close := getattr(iterator, "close", None):
            await sync_to_async(close, thread_sensitive=True)()


def _next_or_none(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def counted_as_audio(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, each counted as it passes (under ASGI, in the request's thread)."""
    for chunk in chunks:
        metrics.count_audio(chunk)
        yield chunk


def without_the_database(request: HttpRequest) -> None:
    """For a view whose streamed answer needs no database (audio): under ASGI the
    request's connection would otherwise stay checked out for as long as the answer
    streams, and a hundred listeners would hold a hundred connections. (Under WSGI the
    thread goes back to serving pages, connection and all, when the view returns.)"""
    if isinstance(request, ASGIRequest):
        db.connections.close_all()
