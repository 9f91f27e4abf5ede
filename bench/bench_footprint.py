#!/usr/bin/env python3
"""Disk footprint of attachment mail: bytes of store per message, and bytes written to disk
per message, when `casemail ingest` stores N ~100 KB messages that each carry a ~74 KB base64
attachment (unique bytes per message, so nothing deduplicates).

Usage: bench/bench_footprint.py CASEMAIL_BINARY [MORE_BINARIES...] [--messages N]
Give an older build's casemail as a second binary to print before and after in one run.
"""
import argparse
import base64
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import tempfile

MAILBOX = "311PublicWorks@city.example"


def attachment_mail(n, rng):
    data = bytes(rng.getrandbits(8) for _ in range(74_000))
    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return (f"From: Citizen {n} <citizen{n}@example.org>\r\nTo: {MAILBOX}\r\nSubject: Photo of the pothole #{n}\r\n"
            f"Message-ID: <footprint-{n}@example.org>\r\nDate: Tue, 3 Nov 2026 10:00:00 -0500\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
            "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPhoto attached. It is about a metre wide.\r\n"
            "--=_b\r\nContent-Type: image/jpeg; name=\"pothole.jpg\"\r\n"
            "Content-Disposition: attachment; filename=\"pothole.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64 + "--=_b--\r\n").encode()


def measure(binary, mail_dir, messages, raw_bytes):
    work = tempfile.mkdtemp(prefix="casemail-footprint-")
    db = os.path.join(work, "store.db")
    try:
        def cli(*args):
            subprocess.run([binary, "--db", db, *args], check=True, capture_output=True)
        cli("init")
        cli("queue", "add", "--name", "Public Works", "--mailbox", MAILBOX)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock
        cli("ingest", "--mailbox", MAILBOX, mail_dir)
        blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_oublock - before
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        free = con.execute("PRAGMA freelist_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
        con.close()
        size = os.path.getsize(db)
        print(f"{binary}:\n  store {size / messages / 1000:7.1f} KB per message "
              f"({(size - free) / messages / 1000:.1f} KB in use, {free / messages / 1000:.1f} KB free pages); "
              f"raw message {raw_bytes / messages / 1000:.1f} KB\n"
              f"  written by the ingest {blocks * 512 / messages / 1000:7.1f} KB per message "
              f"(block-layer writes, WAL and checkpoints)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--messages", type=int, default=500)
    args = ap.parse_args()
    rng = random.Random(20261130)
    mail_dir = tempfile.mkdtemp(prefix="casemail-footprint-mail-")
    raw_bytes = 0
    try:
        for n in range(args.messages):
            raw = attachment_mail(n, rng)
            raw_bytes += len(raw)
            with open(os.path.join(mail_dir, f"{n:05d}.eml"), "wb") as f:
                f.write(raw)
        print(f"{args.messages} messages of ~{raw_bytes / args.messages / 1000:.0f} KB, each with a 74 KB attachment")
        for binary in args.binaries:
            measure(binary, mail_dir, args.messages, raw_bytes)
    finally:
        shutil.rmtree(mail_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
