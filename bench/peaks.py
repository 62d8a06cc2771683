"""How long computing waveform peaks takes, against just reading the same bytes.

    .venv/bin/python bench/peaks.py

The baseline in the same run is the cost of only consuming the WAV stream (what any
reader pays); the ratio is what the peak computation adds on top.
"""

import time

from demo_space import iter_wav
from recordings_app.waveform import wav_peaks


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def consume(chunks) -> None:
    for _ in chunks:
        pass


def main() -> None:
    print(f"{'recording':>22}  {'MB':>7}  {'read s':>7}  {'peaks s':>8}  {'ratio':>6}  {'MB/s':>6}")
    for seconds, stereo in ((90, False), (600, True), (3600, True)):
        size = sum(len(c) for c in iter_wav(seconds, stereo, "bench")) / 1e6
        read = timed(consume, iter_wav(seconds, stereo, "bench"))
        peaks = timed(wav_peaks, iter_wav(seconds, stereo, "bench"))
        label = f"{seconds} s {'stereo' if stereo else 'mono'}"
        print(
            f"{label:>22}  {size:7.1f}  {read:7.3f}  {peaks:8.3f}  {peaks / read:6.1f}"
            f"  {size / peaks:6.0f}"
        )


if __name__ == "__main__":
    main()
