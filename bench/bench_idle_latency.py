#!/usr/bin/env python3
"""IDLE latency: seconds from a citizen's mail being APPENDed to a local Dovecot to its case
committed by a running casemaild.

Usage: bench/bench_idle_latency.py BUILD_DIR [MESSAGES]   (default 100; needs dovecot-imapd)
casemaild runs with poll_interval = "300s", so only IMAP IDLE can explain a fast answer. Each
message is appended alone after a random quiet spell (0.05-0.5 s), and its case is looked for
in the store (a read-only connection) every 2 ms; the clock runs from just before the APPEND
to the case's commit. Printed: p50, p90, p99, max. For reference, the same with IDLE turned
off and polls 1 s apart (casemail's behaviour before IDLE, with a poll interval 30 times
shorter than the default), over a fifth of the messages.
"""
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "support"))
from dovecot_harness import Dovecot  # noqa: E402

ADDRESS = "311PublicWorks@city.example"


def message(i):
    return (f"From: Citizen {i} <citizen{i}@example.org>\r\nTo: {ADDRESS}\r\nSubject: Pothole, report {i}\r\n"
            f"Message-ID: <idle{i}@example.org>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\n"
            f"There is a pothole outside number {i}.\r\n").encode()


def cases(db):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute('SELECT count(*) FROM "case"').fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def run(casemaild, root, n, settings, seed):
    work = os.path.join(root, settings.replace("\n", "_").replace('"', "").replace(" ", ""))
    os.makedirs(work)
    dovecot = Dovecot(work, {"works": "pw"}).start()
    daemon = None
    try:
        with open(os.path.join(work, "pw"), "w") as f:
            f.write("pw\n")
        config = os.path.join(work, "casemail.toml")
        with open(config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[relay]\nenabled = false\n[ingest]\nauto_ack = false\n'
                    f'[[mailbox]]\naddress = "{ADDRESS}"\nqueue = "Public Works"\nurl = "{dovecot.url}"\n'
                    f'user = "works"\npassword_file = "pw"\nallow_plaintext = true\n{settings}\n')
        log = open(os.path.join(work, "casemaild.log"), "w")
        daemon = subprocess.Popen([casemaild, "--config", config], stderr=log, cwd=work)
        db = os.path.join(work, "casemail.db")
        deadline = time.time() + 20
        while time.time() < deadline and not os.path.exists(os.path.join(work, "dovecot", "home", "works")):
            time.sleep(0.05)
        time.sleep(1)  # the first poll has run: what follows is the steady state
        m = dovecot.connect("works")
        rng = random.Random(seed)
        latencies = []
        for i in range(n):
            time.sleep(rng.uniform(0.05, 0.5))
            started = time.time()
            m.append("INBOX", None, None, message(i))
            while cases(db) < i + 1:
                if time.time() - started > 60:
                    sys.exit(f"message {i} not taken within 60 s")
                time.sleep(0.002)
            latencies.append(time.time() - started)
        m.logout()
        return sorted(latencies)
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(10)
        dovecot.stop()


def show(label, lat):
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"{label}: {len(lat)} messages, APPEND -> case committed: p50 {pick(0.5) * 1000:.0f} ms, "
          f"p90 {pick(0.9) * 1000:.0f} ms, p99 {pick(0.99) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    casemaild = os.path.abspath(os.path.join(build, "bin", "casemaild"))
    root = tempfile.mkdtemp(prefix="casemail-bench-idle-")
    try:
        show('casemail, IDLE (poll_interval = "300s")', run(casemaild, root, n, 'poll_interval = "300s"', 1))
        show('reference, no IDLE (poll_interval = "1s")',
             run(casemaild, root, max(1, n // 5), 'poll_interval = "1s"\nidle = false', 2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
