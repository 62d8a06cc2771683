"""What goes wrong, in words for the person looking at the dashboard.

`explain` is the one place that turns a `SignalWireError` into a title, a message and
an HTTP status; `Problem` is the same for the dashboard's own refusals. The error
middleware renders both; the credentials form shows `explain`'s words inline.
"""

from dataclasses import dataclass

from recordings_app import signalwire as sw


@dataclass(frozen=True)
class Explanation:
    status: int
    title: str
    message: str
    retry_after: int | None = None
    # The stored credentials (or the space name in them) are the likely cause: the
    # page then points to where they are changed.
    about_credentials: bool = False


class Problem(Exception):
    """A request the dashboard itself refuses (bad id, tampered link, ...)."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(title)
        self.explanation = Explanation(status, title, message)


class NoActiveCredential(Exception):
    """The user has not stored (or picked) SignalWire credentials yet, or the ones they
    used are no longer shared with them: `message` says which, `page` (a URL name) is
    where they add or pick some."""

    def __init__(
        self,
        message: str = "Add your SignalWire credentials to see your recordings.",
        page: str = "credential_add",
    ):
        super().__init__(message)
        self.message = message
        self.page = page


def explain(error: sw.SignalWireError) -> Explanation:
    match error:
        case sw.CredentialsRejected():
            return Explanation(
                502,
                "SignalWire rejected the credentials",
                "SignalWire answered 401: the project ID or API token is wrong or has "
                "been revoked, or the token lacks the Voice scope (SignalWire answers 401 "
                "for that too). Check them on your space's API page and update them here.",
                about_credentials=True,
            )
        case sw.ScopeMissing():
            return Explanation(
                502,
                "The API token lacks the Voice scope",
                "SignalWire answered 403: this API token may not read recordings. "
                "Give it the Voice scope in your space's API settings.",
                about_credentials=True,
            )
        case sw.SpaceNotFound(host=host):
            return Explanation(
                502,
                "No such SignalWire space",
                f"No SignalWire space answers at {host}. Check the space name.",
                about_credentials=True,
            )
        case sw.RecordingNotFound():
            return Explanation(
                404,
                "Recording not found",
                "This recording does not exist in the project, or it has been deleted.",
            )
        case sw.RequestRejected(details=details):
            return Explanation(
                502, "SignalWire refused the request", "SignalWire said: " + " ".join(details)
            )
        case sw.RateLimited(retry_after=seconds):
            wait = f"in {_seconds(seconds)}" if seconds else "in a minute"
            return Explanation(
                503,
                "SignalWire is rate limiting this project",
                f"Too many requests reached SignalWire at once. Try again {wait}.",
                retry_after=seconds or 60,
            )
        case sw.UpstreamFailed(status=status):
            return Explanation(
                502,
                "SignalWire had a problem",
                f"SignalWire answered with an error ({status}) even after retrying. "
                "This is usually brief; try again shortly.",
            )
        case sw.UpstreamTimeout(seconds=seconds, connecting=True):
            return Explanation(
                504,
                "SignalWire is not accepting connections",
                f"SignalWire did not accept a connection within {_seconds(seconds)}. "
                "Try again shortly.",
            )
        case sw.UpstreamTimeout(seconds=seconds):
            return Explanation(
                504,
                "SignalWire is slow to answer",
                f"SignalWire did not answer within {_seconds(seconds)}. Try again shortly.",
            )
        case sw.UpstreamUnreachable():
            return Explanation(
                503,
                "SignalWire is unreachable",
                "The dashboard could not connect to SignalWire. Try again shortly.",
            )
        case sw.MalformedResponse():
            return Explanation(
                502,
                "SignalWire sent an answer we cannot read",
                "SignalWire's answer was not in the documented format. Try again; if it "
                "keeps happening, the API may have changed.",
            )
        case sw.MediaUnavailable(missing=True):
            return Explanation(
                404,
                "This recording has no audio",
                "SignalWire gave no audio file for this recording.",
            )
        case sw.MediaUnavailable():
            return Explanation(
                502,
                "The audio is not available",
                "SignalWire gave an audio address the dashboard cannot fetch: it is not a "
                "web (http or https) address, or it redirects too many times.",
            )
        case sw.MediaRefused(host=host, status=status):
            return Explanation(
                502,
                "The audio host refused the request",
                f"The audio file is stored at {host}, which answered {status}. The dashboard "
                "sends your SignalWire credentials only to SignalWire's own hosts.",
            )
        case sw.InvalidCursor():
            return Explanation(
                400,
                "This page link is not valid",
                "The link is from an older version of this page, or it was altered. Start "
                "again from the first page.",
            )
        case sw.ForbiddenAddress(host=host):
            return Explanation(
                502,
                "The dashboard will not connect there",
                f"{host} leads to a private or local network address, which the dashboard "
                "does not connect to with your credentials. Check the space name.",
                about_credentials=True,
            )
    return Explanation(502, "SignalWire request failed", "The request to SignalWire failed.")


def _seconds(value: float) -> str:
    return f"{value:g} second{'' if value == 1 else 's'}"
