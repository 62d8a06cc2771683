def wants_fragment(request) -> bool:
    """An htmx request that swaps one part of the page (the table, a message). A boosted
    link or form (the nav, the search form) and a history restore want the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
