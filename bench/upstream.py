"""The benchmark's upstream: a demo space in a process of its own, so its work does not
share a GIL with the client that measures. Prints one JSON line (base URL, ids), then
serves until stdin closes or it is terminated."""

import json
import sys

from demo_space import DEMO_PROJECT_ID, DemoSpace


def main() -> None:
    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
    big_bytes = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000_000
    space = DemoSpace(host="127.0.0.1", port=0, latency=latency).start()
    # A mono 8 kHz 16-bit WAV: 16,000 bytes a second plus a 44-byte header.
    big = space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=big_bytes // 16_000, stereo=False, status="completed"
    )
    small = next(r for r in space.recordings(DEMO_PROJECT_ID) if r["status"] == "completed")
    print(
        json.dumps({"base_url": space.base_url, "big": big, "small": small}),
        flush=True,
    )
    try:
        sys.stdin.read()  # until the parent closes our stdin (or kills us)
    finally:
        space.stop()


if __name__ == "__main__":
    main()
