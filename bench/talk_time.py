"""How long talk time takes for a 10-minute stereo call, as SignalWire records it as WAV.

    .venv/bin/python bench/talk_time.py

The recording is 10 minutes of the demo space's two-party call (8 kHz, 16-bit stereo PCM
WAV, 19.2 MB), built once here and handed to talk_time.analyse_media in 64 KiB chunks, as
from upstream. Baseline from the same run: `decode`, PyAV demuxing and decoding the same
bytes from memory and doing nothing with the audio (what any analysis that decodes pays).
`analysis/decode` is what resampling, splitting the channels and the voice-activity
detector add: compare it across machines, not the seconds. Each figure is the fastest
of 5 runs (the machine is shared); the load average is printed with them.

Target: under 1 s for the whole analysis; the last line says whether it is met.
"""

import io
import os
import sys
import time
from pathlib import Path

import av

# Run as a script (sys.path[0] is bench/): the project's packages are one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from demo_space import iter_wav, talk_spans  # noqa: E402
from recordings_app.talk_time import analyse_media  # noqa: E402

SECONDS = 600
TARGET_SECONDS = 1.0
CHUNK = 65536
RUNS = 5


def chunks(data: bytes):
    return (data[i : i + CHUNK] for i in range(0, len(data), CHUNK))


def decode_only(data: bytes) -> None:
    with av.open(io.BytesIO(data), mode="r", format="wav") as container:
        for _ in container.decode(audio=0):
            pass


def fastest(work) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    wav = b"".join(iter_wav(SECONDS, True, "bench"))
    decode = fastest(lambda: decode_only(wav))
    analysis = fastest(lambda: analyse_media(chunks(wav)))
    result = analyse_media(chunks(wav))
    made = talk_spans(SECONDS, True, "bench")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"10-minute stereo WAV, 8 kHz: {len(wav) / 1e6:.1f} MB; load average {load}")
    print(f"decode (baseline)   {decode:.3f} s")
    print(f"analysis            {analysis:.3f} s   analysis/decode {analysis / decode:.1f}x")
    print(
        f"found: left {result.speaking[0]:.1f} s, right {result.speaking[1]:.1f} s, "
        f"both {result.overlap:.1f} s, longest silence {result.longest_silence:.1f} s; "
        f"made: {made.speaking[0]} s, {made.speaking[1]} s, {made.overlap} s, "
        f"{made.longest_silence} s"
    )
    met = "met" if analysis < TARGET_SECONDS else "NOT met"
    print(f"target: under {TARGET_SECONDS:g} s for 10 minutes of stereo: {met}")


if __name__ == "__main__":
    main()
