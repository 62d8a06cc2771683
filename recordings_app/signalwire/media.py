"""Recording media: which hosts get the credentials, redirects, and the open stream.

SignalWire: media is reported on `files.signalwire.com`, Compatibility media on the
space's host, and either may redirect to storage elsewhere. Media on SignalWire's own
hosts (HTTPS under signalwire.com) is fetched with the project's Basic credentials,
which protected media needs and public media ignores. Any other host is fetched
without them, hop by hop: a redirect from SignalWire to storage drops them.

With SIGNALWIRE_BASE_URL set, what would go to a SignalWire host goes there instead
(files.signalwire.com to SIGNALWIRE_FILES_URL when that is set), path and query kept;
those stand-ins count as SignalWire's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from django.conf import settings

from . import transport
from .exceptions import (
    MediaRefused,
    MediaUnavailable,
    RecordingNotFound,
    SignalWireError,
    SpaceNotFound,
    UpstreamUnreachable,
)
from .space import FILES_HOST, files_base_url, is_signalwire_host, space_base_url, stand_in_urls

# Up to 1 MiB per chunk, as much as has arrived: large chunks keep a local transfer near
# wire speed, and read1() never waits to fill one, so a slow upstream starts playing at once.
MEDIA_CHUNK = 1024 * 1024
MAX_MEDIA_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}


def media_target(url: str) -> tuple[str, bool] | None:
    """Where a media URL is fetched, and whether the credentials go with it; None for a
    URL that is not http(s).

    The URL is rebuilt from the parts it was judged by (no user info, no fragment), so
    the request goes to exactly the host that was checked."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    path = parts.path or "/"
    if stand_in := _stand_in_for(host):
        base = urlsplit(stand_in)
        rewritten = (base.scheme, base.netloc, base.path.rstrip("/") + path, parts.query, "")
        return urlunsplit(rewritten), True
    canonical = urlunsplit((parts.scheme, netloc, path, parts.query, ""))
    if any(_same_origin(canonical, stand_in) for stand_in in stand_in_urls()):
        return canonical, True
    # SignalWire: plain HTTP is refused upstream; an http:// URL is nobody we trust.
    return canonical, parts.scheme == "https" and is_signalwire_host(host)


def _stand_in_for(host: str) -> str:
    """The base URL a SignalWire host is rewritten to, or "" to go to the host itself."""
    if not settings.SIGNALWIRE_BASE_URL or not is_signalwire_host(host):
        return ""
    if host.rstrip(".") == FILES_HOST:
        return files_base_url()
    return settings.SIGNALWIRE_BASE_URL


def _same_origin(url: str, other: str) -> bool:
    def origin(parts):
        return parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)

    return origin(urlsplit(url)) == origin(urlsplit(other))


def open_media(url: str | None, *, space: str, auth, range_header: str | None) -> MediaStream:
    """GET a recording's media file, streaming, passing `Range` through, following at
    most MAX_MEDIA_REDIRECTS redirects; the credentials go only on hops to SignalWire's
    own hosts."""
    if not url:
        raise MediaUnavailable(missing=True)
    # The bytes pass through as they are stored: a compressed answer would arrive with
    # a Content-Length that is not the file's.
    headers = {"Accept-Encoding": "identity"}
    if range_header:
        headers["Range"] = range_header
    space_host = urlsplit(space_base_url(space)).hostname
    for _ in range(MAX_MEDIA_REDIRECTS + 1):
        target = media_target(url)
        if target is None:
            raise MediaUnavailable()
        url, with_credentials = target
        host = urlsplit(url).hostname or ""
        try:
            response = transport._send(
                "GET", url, auth=auth if with_credentials else None, headers=headers, stream=True
            )
        except SpaceNotFound:
            if host == space_host:
                raise
            # Not the space's name that is wrong: a storage host that does not resolve.
            raise UpstreamUnreachable() from None
        if response.is_redirect:
            url = urljoin(url, response.headers.get("Location", ""))
            response.close()
            continue
        if response.status_code == 416:
            return MediaStream(response)
        if not with_credentials and response.status_code in (401, 403):
            response.close()
            raise MediaRefused(host, response.status_code)
        try:
            transport._raise_for_status(response, not_found=RecordingNotFound())
        except SignalWireError:
            response.close()
            raise
        return MediaStream(response)
    raise MediaUnavailable()


_RANGE = re.compile(r"bytes=(?:(\d{1,15})-(\d{0,15})|-(\d{1,15}))")


def single_range(value: str | None) -> str | None:
    """A `Range` header worth passing on: one well-formed byte range, written the one
    way (`bytes=0-`, not `bytes=00-` or `BYTES=0-`); None for anything else, which is
    then answered as the whole file. Several ranges are never passed on: a media file
    is read from one place at a time."""
    match = _RANGE.fullmatch((value or "").strip())
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        return f"bytes=-{int(suffix)}" if int(suffix) else None
    if last and int(last) < int(first):
        return None
    return f"bytes={int(first)}-{int(last) if last else ''}"


class MediaStream:
    """An open upstream media answer: status, the headers worth passing on, and the
    body in chunks, as upstream sent them. A stream that breaks off midway just ends;
    the byte count the browser was promised tells it the file is short.

    The type is an audio type or application/octet-stream, never what a foreign host
    claims (text/html from a hostile host would otherwise run as a page of ours)."""

    PASSED_HEADERS = ("Content-Length", "Content-Range", "Accept-Ranges")

    def __init__(self, response: requests.Response):
        self._response = response
        # Set once the body has been read to its end: True when it broke off, or ended
        # short of its Content-Length (what was drawn or kept from it is not the file).
        self.ended_early = False
        self.status = response.status_code
        self.headers = {
            name: response.headers[name] for name in self.PASSED_HEADERS if name in response.headers
        }
        self.headers["Content-Type"] = audio_type(response.headers.get("Content-Type", ""))

    @property
    def starts_at_zero(self) -> bool:
        """The answer delivers the file from its first byte (the whole of it, or a
        range from 0)."""
        if self.status == 200:
            return True
        return self.status == 206 and self.headers.get("Content-Range", "").startswith("bytes 0-")

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks()

    def chunks(self, size: int = MEDIA_CHUNK) -> Iterator[bytes]:
        """The body in chunks of at most `size` bytes, each as much as has arrived."""
        raw = self._response.raw
        length = self.headers.get("Content-Length", "")
        promised = int(length) if length.isascii() and length.isdigit() else None
        received = 0
        try:
            while chunk := raw.read1(size, decode_content=False):
                received += len(chunk)
                yield chunk
            self.ended_early = promised is not None and received < promised
        except (urllib3.exceptions.HTTPError, OSError):
            self.ended_early = True
        finally:
            self._response.close()

    def close(self) -> None:
        self._response.close()


def audio_type(content_type: str) -> str:
    """An audio media type as given (audio/wav, audio/mpeg, audio/mp4; MP4 served as
    video/mp4 counts), else application/octet-stream."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "video/mp4":
        return "audio/mp4"
    if re.fullmatch(r"audio/[a-z0-9.+-]{1,40}", kind):
        return kind
    return "application/octet-stream"
