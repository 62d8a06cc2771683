"""`python -m demo_space`: serve the demo space in the foreground until Ctrl-C."""

import argparse
import signal
import threading

from . import DEMO_API_TOKEN, DEMO_PROJECT_ID, DemoSpace


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # leave through the same clean path as Ctrl-C


def space_from_args(argv: list[str] | None = None) -> DemoSpace:
    """The (not yet started) space that these command-line arguments describe."""
    parser = argparse.ArgumentParser(prog="python -m demo_space", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--files-port", type=int, default=0, help="the files host's (any)")
    parser.add_argument("--foreign-port", type=int, default=0, help="the foreign host's (any)")
    parser.add_argument("--count", type=int, default=2000, help="recordings in the demo project")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to each API request")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    real = parser.add_argument_group(
        "how real spaces behave", "--realistic turns on the first four; a flag given wins"
    )
    real.add_argument("--realistic", action="store_true")
    real.add_argument(
        "--media-host", choices=("space", "files"), help="where RELAY media URLs point (space)"
    )
    real.add_argument("--status-words", choices=("legacy", "real"), help="RELAY's (legacy)")
    real.add_argument("--formats", choices=("wav", "mixed"), help="RELAY media formats (wav)")
    real.add_argument(
        "--public-media",
        action=argparse.BooleanOptionalAction,
        help="media without credentials, except the other project's (off)",
    )
    real.add_argument("--relay-order", choices=("newest", "oldest"), default="newest")
    real.add_argument(
        "--scopeless-status",
        type=int,
        choices=(403, 401),
        default=403,
        help="what a token without the Voice scope gets (403)",
    )
    real.add_argument(
        "--compat-redirect",
        action="store_true",
        help="Compatibility media answers 302 to the files host",
    )
    args = parser.parse_args(argv)
    return DemoSpace(
        host=args.host,
        port=args.port,
        count=args.count,
        latency=args.latency_ms / 1000,
        verbose=args.verbose,
        realistic=args.realistic,
        media_host=args.media_host,
        status_words=args.status_words,
        formats=args.formats,
        public_media=args.public_media,
        relay_order=args.relay_order,
        scopeless_status=args.scopeless_status,
        compat_redirect=args.compat_redirect,
        files_port=args.files_port,
        foreign_port=args.foreign_port,
    )


def main(argv: list[str] | None = None) -> None:
    space = space_from_args(argv)
    space.start()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Demo SignalWire space at {space.base_url}")  # first line: scripts read it
    print(f"  files host: {space.files_url} (https://files.signalwire.com)")
    print(f"  project id: {DEMO_PROJECT_ID}")
    print(f"  API token:  {DEMO_API_TOKEN}")
    print(
        f"  media host: {space.media_host}, status words: {space.status_words}, "
        f"formats: {space.formats}, public media: {'on' if space.public_media else 'off'}"
    )
    print("Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        space.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
