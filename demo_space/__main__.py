"""`python -m demo_space`: serve the demo space in the foreground until Ctrl-C."""

import argparse
import signal
import threading

from . import DEMO_API_TOKEN, DEMO_PROJECT_ID, DemoSpace


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # leave through the same clean path as Ctrl-C


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo_space", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--count", type=int, default=2000, help="recordings in the demo project")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to each API request")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    space = DemoSpace(
        host=args.host,
        port=args.port,
        count=args.count,
        latency=args.latency_ms / 1000,
        verbose=args.verbose,
    )
    space.start()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Demo SignalWire space at {space.base_url}")
    print(f"  project id: {DEMO_PROJECT_ID}")
    print(f"  API token:  {DEMO_API_TOKEN}")
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
