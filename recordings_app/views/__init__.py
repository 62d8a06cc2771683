"""Every request handler, a module per page. Nothing else in the app imports these:
urls.py (and settings, by dotted path) point at them."""
