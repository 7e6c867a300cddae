"""Benchmark (not a test): full synth of every stack vs. the idiomatic provider import.

Runs each measurement in a fresh interpreter, interleaved so machine noise hits both alike,
and prints the median wall time of each, their ratio, and the median peak memory of each
(the largest process: Python or the jsii kernel's Node.js).
Usage: ``make bench`` or ``.venv/bin/python -m tools.benchmark --runs 5``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

FULL_SYNTH = "from stacks.app import build_app; import sys; build_app(outdir=sys.argv[1]).synth()"
IDIOMATIC_IMPORT = "import cdktf_cdktf_provider_aws"


def timed(code: str, *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one fresh interpreter run.

    The RSS is that of the largest single process among the interpreter and the children it waited
    for (the jsii kernel's Node.js), as the kernel reports it to ``wait4``."""
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"benchmark run failed:\n{errors.read().decode(errors='replace')[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def summary(label: str, values: list[float], unit: str) -> str:
    return f"{label:<34} median {statistics.median(values):7.2f} {unit}  (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    synth_times, import_times, synth_rss, import_rss = [], [], [], []
    timed("pass")  # warm the OS file cache and the .pyc files before measuring
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as outdir:
            seconds, rss = timed(FULL_SYNTH, outdir)
        synth_times.append(seconds)
        synth_rss.append(rss)
        seconds, rss = timed(IDIOMATIC_IMPORT)
        import_times.append(seconds)
        import_rss.append(rss)
        print(
            f"run {run + 1}/{args.runs}: full synth {synth_times[-1]:.2f} s, idiomatic import {seconds:.2f} s",
            flush=True,
        )
    print(summary("full synth of all stacks", synth_times, "s"))
    print(summary("import cdktf_cdktf_provider_aws", import_times, "s"))
    ratio = statistics.median(synth_times) / statistics.median(import_times)
    print(f"ratio synth / import (medians)     {ratio:.3f}  (target <= 0.35)")
    print(summary("peak RSS, full synth", synth_rss, "MiB"))
    print(summary("peak RSS, import", import_rss, "MiB"))


if __name__ == "__main__":
    main()
