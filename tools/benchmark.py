"""Benchmark (not a test): full synth of every stack vs. the idiomatic provider import.

Runs each measurement in a fresh interpreter, interleaved so machine noise hits both alike,
and prints the median wall time of each, their ratio, and the peak memory of each process
tree. Usage: ``make bench`` or ``.venv/bin/python -m tools.benchmark --runs 5``.
"""

from __future__ import annotations

import argparse
import os
import resource
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
    """Wall seconds and peak RSS (MiB, largest process of the tree) of one fresh interpreter run."""
    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{result.stderr[-3000:]}")
    # ru_maxrss of children is the largest single descendant so far (python or node), in KiB.
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    synth_times, import_times = [], []
    synth_rss = import_rss = 0.0
    timed("pass")  # warm the OS file cache and the .pyc files before measuring
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as outdir:
            seconds, synth_rss = timed(FULL_SYNTH, outdir)
            synth_times.append(seconds)
        seconds, import_rss = timed(IDIOMATIC_IMPORT)
        import_times.append(seconds)
        print(f"run {run + 1}/{args.runs}: full synth {synth_times[-1]:.2f} s, idiomatic import {seconds:.2f} s",
              flush=True)
    synth, imported = statistics.median(synth_times), statistics.median(import_times)
    print(f"full synth of all stacks   median {synth:6.2f} s  (min {min(synth_times):.2f}, max {max(synth_times):.2f})")
    print(f"import cdktf_cdktf_provider_aws median {imported:6.2f} s  (min {min(import_times):.2f}, max {max(import_times):.2f})")
    print(f"ratio synth / import       {synth / imported:.3f}  (target <= 0.35)")
    print(f"peak RSS of one process (largest seen across all runs): {max(synth_rss, import_rss):.0f} MiB")


if __name__ == "__main__":
    main()
