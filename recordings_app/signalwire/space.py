"""Where a space's requests go: its name, its host, and the stand-ins for SignalWire's
hosts that the settings name (the demo space, the tests, a staging server)."""

import re
from urllib.parse import urlsplit

from django.conf import settings

FILES_HOST = "files.signalwire.com"
_SPACE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalize_space(value: str) -> str:
    """`acme`, `acme.signalwire.com` or `https://acme.signalwire.com/...` -> `acme`.

    Raises ValueError for anything that is not a space name."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0]
    if text.endswith(".signalwire.com"):
        text = text.removesuffix(".signalwire.com")
    if not _SPACE_RE.match(text):
        raise ValueError(value)
    return text


def space_base_url(space: str) -> str:
    return settings.SIGNALWIRE_BASE_URL or f"https://{space}.signalwire.com"


def files_base_url() -> str:
    """Where requests for files.signalwire.com go instead, or "" to go there."""
    return getattr(settings, "SIGNALWIRE_FILES_URL", "") or settings.SIGNALWIRE_BASE_URL


def is_signalwire_host(host: str | None) -> bool:
    """A host under signalwire.com: a space's own, files.signalwire.com, and the rest."""
    return host is not None and host.rstrip(".").lower().endswith(".signalwire.com")


def stand_in_urls() -> tuple[str, ...]:
    """The base URLs that stand in for SignalWire's hosts, when the settings name any."""
    return tuple(url for url in (settings.SIGNALWIRE_BASE_URL, files_base_url()) if url)
