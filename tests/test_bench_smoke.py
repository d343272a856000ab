"""A tiny run of the benchmark: it runs and prints every ratio (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

RATIOS = ["build: qms / bare sphinx-needs", "build: bare sphinx-needs / plain Sphinx",
          "verify / floor", "check / floor", "verify / floor, no record cache",
          "check / floor, no record cache", "incremental / full build",
          "scaling build: per document", "scaling check: per document",
          "scaling verify: per document"]


def test_benchmark_smoke_run_prints_every_ratio():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "bench.py"), "--sizes", "10,20",
                           "--repeat", "1", "--no-write"], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for ratio in RATIOS:
        rows = [line for line in table if line.startswith(f"| {ratio}")]
        assert rows, ratio
        value = rows[-1].split("|")[3].strip()
        assert float(value) > 0, rows[-1]
    assert "peak RSS" in done.stdout
