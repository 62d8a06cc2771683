"""Parts of a page that htmx swaps, and the keys their rendered HTML is cached under."""

import hashlib
import pickle


def wants_fragment(request) -> bool:
    """An htmx request that swaps one part of the page (the table, a message). A boosted
    link or form (the nav, the search form) and a history restore want the whole page."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def content_key(*parts) -> str:
    """A digest of everything a rendered fragment shows, so the fragment can be reused
    for exactly as long as its content is the same (`{% cache %}` in the template)."""
    return hashlib.sha256(pickle.dumps(parts)).hexdigest()
