"""Opaque page links.

The list URL carries a signed token wrapping the query string of upstream's own
`links.next`/`links.prev`. The server only ever fetches the list endpoint of the
user's space with that query: a page URL cannot make it fetch anything else, and a
token minted for one credential does not work with another (the salt is the
credential's scope, so a link also stops working when the credential is edited).
"""

from django.core import signing

from recordings_app.errors import Problem

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 50


def sign_cursor(credential, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return signing.dumps(cursor, salt=_salt(credential), compress=True)


def unsign_cursor(credential, token: str | None) -> str | None:
    if not token:
        return None
    try:
        cursor = signing.loads(token, salt=_salt(credential))
    except signing.BadSignature:
        raise Problem(
            400,
            "This page link is not valid",
            "The link was altered, or it belongs to other credentials. Start again from "
            "the first page.",
        ) from None
    if not isinstance(cursor, str):
        raise Problem(400, "This page link is not valid", "Start again from the first page.")
    return cursor


def page_size(value: str | None) -> int:
    if not value:
        return DEFAULT_PAGE_SIZE
    if value.isdigit() and int(value) in PAGE_SIZES:
        return int(value)
    choices = ", ".join(map(str, PAGE_SIZES))
    raise Problem(400, "Unknown page size", f"Choose {choices} recordings per page.")


def _salt(credential) -> str:
    return f"recordings-cursor:{credential.cache_scope}"
