"""One logging configuration for every process: Django's (settings.LOGGING) and
gunicorn's (gunicorn.conf.py logconfig_dict). Imports nothing, so gunicorn can read it
before Django is set up."""


def json_logging(loggers: dict) -> dict:
    """A dictConfig that writes every record as one JSON line on stderr, through
    recordings_app.request_log.JsonFormatter (made when logging is configured)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "recordings_app.request_log.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["json"], "level": "INFO"},
        "loggers": loggers,
    }
