#!/usr/bin/env python3
"""Peak memory of `casemail ingest` on one big message, against the limit 64 MB + 2x the message.

Three ~20-29 MB shapes, each ingested by a fresh `casemail ingest` into a fresh store:
  attachment   a short text part and one 20 MB base64 attachment
  two-parts    a 20 MB and a 7 MB base64 attachment
  long-text    a 7.5 MB plain-text body beside the 20 MB base64 attachment
Peak RSS is the child's own (wait4), so the harness does not count.

Usage: bench/bench_big_message.py CASEMAIL_BINARY [MORE_BINARIES...]
Give an older build's casemail as a second binary to print before and after in one run.
"""
import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile

MAILBOX = "311PublicWorks@city.example"
MB = 1024 * 1024
SHAPES = ("attachment", "two-parts", "long-text")


def b64(rng, size):
    return base64.encodebytes(rng.randbytes(size)).decode().replace("\n", "\r\n")


def big_mail(shape, rng):
    head = (f"From: Resident <resident@example.org>\r\nTo: {MAILBOX}\r\nSubject: Scans ({shape})\r\n"
            f"Message-ID: <big-{shape}@example.org>\r\nDate: Tue, 3 Nov 2026 10:00:00 -0500\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n")
    text = "Scans of the permit attached.\r\n"
    if shape == "long-text":
        text = ("The sewer on Elm Street backs up every time it rains; log of each day follows. " * 12 + "\r\n") * 8000
    parts = ["--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text]
    sizes = [15 * MB] + ([5 * MB + 300_000] if shape == "two-parts" else [])
    for i, size in enumerate(sizes):
        parts.append(f"--=_b\r\nContent-Type: application/pdf; name=\"scan{i}.pdf\"\r\n"
                     f"Content-Disposition: attachment; filename=\"scan{i}.pdf\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n" + b64(rng, size))
    return (head + "".join(parts) + "--=_b--\r\n").encode()


def peak_rss_kib(argv, log):
    # A child's high-water RSS starts with what it shares of this script before exec, so the
    # mail is written by another process (write_mail) and this one stays small.
    with open(log, "wb") as err:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        with open(log, errors="replace") as f:
            raise SystemExit(f"{' '.join(argv)} failed: {f.read().strip()}")
    return usage.ru_maxrss


def write_mail(directory):
    rng = random.Random(311)
    for shape in SHAPES:
        with open(os.path.join(directory, f"{shape}.eml"), "wb") as f:
            f.write(big_mail(shape, rng))


def measure(binary, path):
    work = tempfile.mkdtemp(prefix="casemail-big-")
    db = os.path.join(work, "store.db")
    try:
        subprocess.run([binary, "--db", db, "init"], check=True, capture_output=True)
        subprocess.run([binary, "--db", db, "queue", "add", "--name", "Public Works", "--mailbox", MAILBOX],
                       check=True, capture_output=True)
        argv = [binary, "--db", db, "ingest", "--mailbox", MAILBOX, path]
        return peak_rss_kib(argv, os.path.join(work, "stderr")) / 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="*", help="casemail binaries (the first is the one under test)")
    ap.add_argument("--write-mail", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_mail:
        return write_mail(args.write_mail)
    if not args.binaries:
        ap.error("give at least one casemail binary")
    mail_dir = tempfile.mkdtemp(prefix="casemail-big-mail-")
    try:
        subprocess.run([sys.executable, __file__, "--write-mail", mail_dir], check=True)
        print(f"{'shape':12} {'message':>9} {'limit':>9}  " + "  ".join(f"{'peak RSS':>9}" for _ in args.binaries))
        for shape in SHAPES:
            path = os.path.join(mail_dir, f"{shape}.eml")
            size = os.path.getsize(path) / MB
            peaks = [measure(b, path) for b in args.binaries]
            print(f"{shape:12} {size:7.1f} MB {64 + 2 * size:6.1f} MB  " +
                  "  ".join(f"{p:6.1f} MB" for p in peaks))
        if len(args.binaries) > 1:
            print("binaries: " + ", ".join(args.binaries))
    finally:
        shutil.rmtree(mail_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
