#!/usr/bin/env python3
"""Report speed: `casemail report --by X` on a generated store (tests/support/generate_store.py).

Usage: bench/bench_report.py BUILD_DIR [CASES]   (default 10000)
Times the whole command (process start, store open, query, output) for each dimension, best of
three runs, and prints it beside the number of cases.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "support"))
from generate_store import generate  # noqa: E402


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    casemail = os.path.abspath(os.path.join(build, "bin", "casemail"))
    root = tempfile.mkdtemp(prefix="casemail-bench-report-")
    try:
        db = os.path.join(root, "casemail.db")
        subprocess.run([casemail, "--db", db, "init"], check=True, capture_output=True)
        t = time.time()
        generate(db, n)
        print(f"generated {n} cases in {time.time() - t:.1f} s")
        for by in ("queue", "category", "request-type", "ward", "property", "origin", "status", "month"):
            best = min(timed(casemail, db, by) for _ in range(3))
            print(f"  report --by {by:<13} {best * 1000:7.1f} ms  ({n} cases)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def timed(casemail, db, by):
    t = time.perf_counter()
    subprocess.run([casemail, "--db", db, "report", "--by", by, "--json"], check=True, capture_output=True)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
