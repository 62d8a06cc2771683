"""Opaque page links for the live list.

The list URL carries a signed token wrapping the trail of cursors that led from the
first page to this one (the client's merged-list cursors, which hold upstream's own
paging links per API family). The server only ever fetches the list endpoints of the
user's space with them: a page URL cannot make it fetch anything else, and a token
minted for one credential does not work with another (the salt is the credential's
scope, so a link also stops working when the credential is edited).

The merged list pages forward only; the trail is what makes "Newer" possible. It keeps
the newest cursors that fit in MAX_TOKEN characters (at most TRAIL), so a page link
stays well inside MAX_QUERY_STRING; from further back, "Newer" steps back as far as the
trail reaches and "First" does the rest.
"""

from django.core import signing

from recordings_app.errors import Problem

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 50


TRAIL = 8
# A merged cursor holds up to four upstream cursors; a link must stay far below the
# 2,048-character query strings the dashboard accepts (MAX_QUERY_STRING).
MAX_TOKEN = 1200


def sign_trail(credential, trail: list[str]) -> str | None:
    """A page token for the page the trail's last cursor names; None for the first page."""
    if not trail:
        return None
    # No timestamp (links do not expire), so a page's links are the same on every
    # request: the rendered table's cache key, which digests them, stays the same too.
    kept = trail[-TRAIL:]
    token = _signer(credential).sign_object(kept, compress=True)
    while len(token) > MAX_TOKEN and len(kept) > 1:
        kept = kept[1:]
        token = _signer(credential).sign_object(kept, compress=True)
    return token


def unsign_trail(credential, token: str | None) -> list[str]:
    """The trail a page token holds ([] for the first page)."""
    if not token:
        return []
    try:
        trail = _signer(credential).unsign_object(token)
    except signing.BadSignature:
        raise Problem(
            400,
            "This page link is not valid",
            "The link was altered, or it belongs to other credentials. Start again from "
            "the first page.",
        ) from None
    if not (isinstance(trail, list) and trail and all(isinstance(c, str) for c in trail)):
        raise Problem(400, "This page link is not valid", "Start again from the first page.")
    return trail


def page_size(value: str | None) -> int:
    if not value:
        return DEFAULT_PAGE_SIZE
    if value.isdigit() and int(value) in PAGE_SIZES:
        return int(value)
    choices = ", ".join(map(str, PAGE_SIZES))
    raise Problem(400, "Unknown page size", f"Choose {choices} recordings per page.")


def _signer(credential) -> signing.Signer:
    return signing.Signer(salt=f"recordings-trail:{credential.cache_scope}")
