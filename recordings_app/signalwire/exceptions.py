"""One exception per kind of failure talking to SignalWire.

What to tell the user about each lives in `recordings_app.errors`; none of them ever
carries the API token.
"""


class SignalWireError(Exception):
    """Base of every failure talking to SignalWire. Never carries the API token."""


class CredentialsRejected(SignalWireError):
    """401: the project ID or API token is wrong or revoked, or the token lacks the Voice
    scope (SignalWire answers 401 for that too, though its docs also mention 403)."""


class ScopeMissing(SignalWireError):
    """403: the token is valid but lacks the Voice scope."""


class SpaceNotFound(SignalWireError):
    """No space answers at that name: the host does not resolve, or the API path is 404."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


class RecordingNotFound(SignalWireError):
    """404 for one recording: never existed in this project, or deleted."""


class LegNotFound(SignalWireError):
    """404 for a voice log or a call: SignalWire has no record of that call leg."""


class RequestRejected(SignalWireError):
    """422: upstream rejected a parameter; `details` are upstream's own words."""

    def __init__(self, details: list[str]):
        super().__init__("; ".join(details))
        self.details = details


class RateLimited(SignalWireError):
    """429 that outlasted the retry budget."""

    def __init__(self, retry_after: int | None):
        super().__init__(retry_after)
        self.retry_after = retry_after


class UpstreamFailed(SignalWireError):
    """5xx (after retries), or another status we have no meaning for."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class UpstreamTimeout(SignalWireError):
    """No connection within the connect timeout (`connecting`), or no answer within the
    read timeout after the request went out."""

    def __init__(self, seconds: float, connecting: bool = False):
        super().__init__(seconds)
        self.seconds = seconds
        self.connecting = connecting


class UpstreamUnreachable(SignalWireError):
    """The connection could not be made (refused, reset, TLS failure), or a media host
    other than the space's own does not resolve."""


class MalformedResponse(SignalWireError):
    """The answer is not what the API describes (not JSON, wrong shape)."""


class MediaUnavailable(SignalWireError):
    """The recording has no media URL we can fetch: none at all (`missing`), one that is
    not an http(s) URL, or one that redirects more than MAX_MEDIA_REDIRECTS times."""

    def __init__(self, missing: bool = False):
        super().__init__(missing)
        self.missing = missing


class MediaRefused(SignalWireError):
    """A media host that is not SignalWire's answered 401 or 403: it wants credentials,
    and ours only ever go to SignalWire's own hosts."""

    def __init__(self, host: str, status: int):
        super().__init__(host, status)
        self.host = host
        self.status = status


class ForbiddenAddress(SignalWireError):
    """In production, a host that resolves to a private, loopback, link-local or other
    non-public address (and is not SIGNALWIRE_BASE_URL's or SIGNALWIRE_FILES_URL's
    host): never connected to."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


class InvalidCursor(SignalWireError):
    """A page cursor of the merged list that this client did not make (or an older
    version of it did): nothing was fetched."""


# SignalWire as a whole, not one recording, is in trouble: every next request would fail
# the same way. Not answering (a retry later may work), and refusing these credentials
# (nothing will until someone fixes them).
NOT_ANSWERING = (UpstreamFailed, UpstreamTimeout, UpstreamUnreachable)
CREDENTIALS_REFUSED = (CredentialsRejected, ScopeMissing, SpaceNotFound)
