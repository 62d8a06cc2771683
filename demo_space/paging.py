"""Keyset paging, as SignalWire's lists page: opaque tokens that name a boundary recording.

Why keysets, not offsets: a recording deleted between two requests must neither skip nor
repeat any other. A token is signed, so a tampered or made-up one is refused, not obeyed.
"""

import base64
import binascii
import hashlib
import hmac
import json
from bisect import bisect_left, bisect_right

_TOKEN_KEY = b"demo-space page tokens"  # fixed, so tokens survive a restart like upstream's
_DIRECTIONS = ("next", "prev", "prev_incl")


def page_bounds(keys: list, size: int, cursor, newest_first: bool = True) -> tuple[int, int]:
    """The slice keys[lo:hi] (ascending) that a page shows; served reversed if newest first.

    SignalWire-style keyset paging: a cursor names a boundary (created, id), not an offset,
    so deleting recordings between two requests neither skips nor repeats any.
    """
    total = len(keys)
    first = (max(0, total - size), total) if newest_first else (0, min(size, total))
    if cursor is None:
        return first
    direction, boundary = cursor[0], (cursor[1], cursor[2])
    if newest_first:
        if direction == "next":  # the `size` recordings just older than the boundary
            hi = bisect_left(keys, boundary)
            return max(0, hi - size), hi
        # prev: the `size` recordings just newer than the boundary; prev_incl: the same, the
        # boundary recording included
        lo = bisect_right(keys, boundary) if direction == "prev" else bisect_left(keys, boundary)
        if total - lo <= size:  # fewer than a full page before: that is the first page
            return first
        return lo, lo + size
    if direction == "next":  # oldest first: the `size` recordings just newer than the boundary
        lo = bisect_right(keys, boundary)
        return lo, min(total, lo + size)
    # oldest first, prev: the `size` recordings just older than the boundary (prev_incl: and it)
    hi = bisect_left(keys, boundary) if direction == "prev" else bisect_right(keys, boundary)
    if hi <= size:
        return first
    return hi - size, hi


def page_tokens(keys: list, lo: int, hi: int, cursor, newest_first: bool = True):
    """(next token, prev token) of the page keys[lo:hi]; None where there is no such page."""
    total = len(keys)
    if newest_first:
        next_token = _encode_token("next", keys[lo]) if 0 < lo < hi else None
        prev_token = _encode_token("prev", keys[hi - 1]) if lo < hi < total else None
        past_the_end = lo == hi < total
    else:
        next_token = _encode_token("next", keys[hi - 1]) if lo < hi < total else None
        prev_token = _encode_token("prev", keys[lo]) if 0 < lo < hi else None
        past_the_end = 0 < lo == hi
    if past_the_end and cursor is not None:
        # An empty page past the end: its prev is the last full page, boundary included.
        prev_token = _encode_token("prev_incl", (cursor[1], cursor[2]))
    return next_token, prev_token


def _encode_token(direction: str, key: tuple[str, str]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps([direction, *key]).encode()).rstrip(b"=")
    mac = hmac.new(_TOKEN_KEY, payload, hashlib.sha256).digest()[:12]
    return f"{payload.decode()}.{base64.urlsafe_b64encode(mac).decode()}"


def read_token(token: str) -> tuple[str, str, str] | None:
    """The cursor in a page token, or None if it is not one we issued (tampered, truncated...)."""
    payload, _, mac = token.encode("ascii", "replace").partition(b".")
    expected = base64.urlsafe_b64encode(hmac.new(_TOKEN_KEY, payload, hashlib.sha256).digest()[:12])
    if not payload or not hmac.compare_digest(mac, expected):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in _DIRECTIONS
        and all(isinstance(v, str) for v in value)
    ):
        return value[0], value[1], value[2]
    return None
