#!/usr/bin/env python3
"""Drain benchmark: messages/s that casemaild --once moves from a local Dovecot into the store.

Usage: bench/bench_imap_drain.py BUILD_DIR [MESSAGES]   (default 5000; needs dovecot-imapd)
Starts a throwaway Dovecot on 127.0.0.1 (tests/support/dovecot_harness.py), appends MESSAGES
4 KB citizen mails to one mailbox, then times one `casemaild --once` with the daemon's
durability settings (WAL, commits in groups synced before UID MOVE). Then,
for reference, `casemail ingest` of the same messages from files into a fresh store: what IMAP
adds is the difference. Both stores are made (`casemail init`) before the clock starts.
CASEMAIL_BENCH_WRAP: a command casemaild runs under (a profiler), e.g. "perf record -g -o FILE".
CASEMAIL_BENCH_FETCH_BATCH: casemaild's [daemon] fetch_batch (messages per UID FETCH; default 50).
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "support"))
from dovecot_harness import Dovecot  # noqa: E402


def message(i):
    body = ("The street light outside number %d has been out for a week. " % i) * 60
    return (f"From: Citizen {i} <citizen{i}@example.org>\r\nTo: 311PublicWorks@city.example\r\n"
            f"Subject: Street light out, report {i}\r\nMessage-ID: <bench{i}@example.org>\r\n"
            f"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\n{body}\r\n").encode()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    casemaild = os.path.abspath(os.path.join(build, "bin", "casemaild"))
    root = tempfile.mkdtemp(prefix="casemail-bench-")
    dovecot = Dovecot(root, {"works": "pw"}).start()
    try:
        t = time.time()
        # APPEND, as a delivery agent would (Dovecot indexes each message on arrival); maildir
        # files dropped into new/ cost ~2 ms more per FETCH on their first read.
        dovecot.append("works", (message(i) for i in range(n)))
        print(f"appended {n} messages in {time.time() - t:.1f} s")
        with open(os.path.join(root, "pw"), "w") as f:
            f.write("pw\n")
        config = os.path.join(root, "casemail.toml")
        with open(config, "w") as f:
            batch = os.environ.get("CASEMAIL_BENCH_FETCH_BATCH")
            daemon = f'[daemon]\nfetch_batch = {int(batch)}\n' if batch else ''
            f.write(f'[store]\npath = "casemail.db"\n{daemon}[ingest]\nauto_ack = false\n[[mailbox]]\n'
                    f'address = "311PublicWorks@city.example"\nqueue = "Public Works"\nurl = "{dovecot.url}"\n'
                    f'user = "works"\npassword_file = "pw"\nallow_plaintext = true\n')
        casemail = os.path.abspath(os.path.join(build, "bin", "casemail"))
        # The store made first, as for the files below: steady state, not the first start.
        subprocess.run([casemail, "--config", config, "init"], check=True, capture_output=True)
        wrap = os.environ.get("CASEMAIL_BENCH_WRAP", "").split()
        t = time.time()
        proc = subprocess.run([*wrap, casemaild, "--config", config, "--once"], capture_output=True, text=True)
        secs = time.time() - t
        if proc.returncode != 0:
            sys.exit(proc.stderr[-2000:])
        created = proc.stderr.count("action=created")
        per = [float(l.split(" ms=")[1].split()[0]) for l in proc.stderr.splitlines() if " ms=" in l]
        fetch = [float(l.split(" fetch_ms=")[1].split()[0]) for l in proc.stderr.splitlines() if " fetch_ms=" in l]
        print(f"  of which IMAP fetch: mean {sum(fetch) / max(1, len(fetch)):.2f} ms")
        print(f"  per message (fetch + ingest): mean {sum(per) / max(1, len(per)):.2f} ms, max {max(per or [0]):.1f} ms")
        for line in proc.stderr.splitlines():
            if "action=" not in line:
                print("  log:", line[:300])
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"casemaild --once: {created} cases from {n} messages in {secs:.2f} s = {n / secs:.0f} msgs/s "
              f"(peak RSS {rss:.0f} MB); left in INBOX: {dovecot.count('works')}")
        files = os.path.join(root, "files")
        os.mkdir(files)
        for i in range(n):
            with open(os.path.join(files, f"{i:06d}.eml"), "wb") as f:
                f.write(message(i))
        db = os.path.join(root, "from-files.db")
        cli = lambda *a: subprocess.run([casemail, "--config", config, "--db", db, *a], check=True, capture_output=True,
                                       text=True)  # the drain's settings (no acknowledgements)
        cli("init")
        cli("queue", "add", "--name", "Public Works", "--mailbox", "311PublicWorks@city.example")
        t = time.time()
        cli("ingest", "--mailbox", "311PublicWorks@city.example", files)
        file_secs = time.time() - t
        print(f"casemail ingest of the same {n} messages from files: {file_secs:.2f} s = {n / file_secs:.0f} msgs/s; "
              f"the drain takes {secs / file_secs:.2f}x as long")
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
