"""The benchmark scripts still run: ``benchmarks/plain_loops.py --smoke`` for every family, in a
subprocess, prints one line per measured size with a positive ratio framework / plain loop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("dcgan", "cyclegan", "stylegan2", "transgan")


@pytest.mark.slow
def test_plain_loops_smoke_prints_a_positive_ratio_per_line():
    command = [sys.executable, str(REPO / "benchmarks" / "plain_loops.py"), "--smoke", "--device", "cpu"]
    result = subprocess.run(
        [*command, "--only", ",".join(FAMILIES)],
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip() and not line.startswith("#")]
    names = ["dcgan", "cyclegan", "cyclegan", "stylegan2", "transgan", "total"]  # cyclegan: batch 1 and 2
    assert [line.split()[0] for line in lines] == names, result.stdout
    for line in lines:
        ratio = re.search(r"ratio (\d+\.\d+)$", line)
        assert ratio is not None and float(ratio.group(1)) > 0, line
