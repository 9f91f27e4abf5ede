#!/usr/bin/env python3
"""Relay throughput: agents' replies/s that casemaild accepts over loopback SMTP, each
committed to the durable outbox (WAL, synchronous=FULL) before its 250.

Usage: bench/bench_relay.py BUILD_DIR [MESSAGES] [CONNECTIONS]   (default 2000 over 4)
No upstream is configured, so nothing is delivered: this measures accept + rewrite + commit.
"""
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    casemail = os.path.abspath(os.path.join(build, "bin", "casemail"))
    casemaild = os.path.abspath(os.path.join(build, "bin", "casemaild"))
    root = tempfile.mkdtemp(prefix="casemail-bench-relay-")
    port = free_port()
    config = os.path.join(root, "casemail.toml")
    with open(config, "w") as f:
        f.write(f'[store]\npath = "casemail.db"\n[ingest]\nauto_ack = false\n[relay]\nlisten = "127.0.0.1:{port}"\n')
    cm = lambda *a: subprocess.run([casemail, "--config", config, *a], check=True, capture_output=True, text=True)
    cm("init")
    cm("queue", "add", "--name", "Public Works", "--mailbox", "311PublicWorks@city.example")
    cm("contact", "add", "--email", "ann@example.org", "--name", "Ann Lee", "--registered")
    with open(os.path.join(root, "in.eml"), "w") as f:
        f.write("From: Ann Lee <ann@example.org>\r\nTo: 311PublicWorks@city.example\r\nSubject: Pothole\r\n"
                "Message-ID: <ann-1@example.org>\r\n\r\nThere is a pothole.\r\n")
    cm("ingest", "--mailbox", "311PublicWorks@city.example", os.path.join(root, "in.eml"))
    token = json.loads(cm("case", "list", "--json").stdout)[0]["token"]
    log = open(os.path.join(root, "casemaild.log"), "w")
    daemon = subprocess.Popen([casemaild, "--config", config], stderr=log)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        body = "Thank you for your report. A crew will inspect the site this week.\r\n" * 50
        msg = (f"From: asmith@city.example\r\nTo: ann@example.org, neighbour@example.org\r\n"
               f"Subject: RE: Pothole [{token}]\r\n\r\n{body}")
        errors = []

        def worker(count):
            try:
                with smtplib.SMTP("127.0.0.1", port) as s:
                    for _ in range(count):
                        s.sendmail("asmith@city.example", ["ann@example.org", "neighbour@example.org"], msg)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n // conns,)) for _ in range(conns)]
        t = time.time()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        secs = time.time() - t
        if errors:
            sys.exit("errors: " + "; ".join(errors[:3]))
        total = (n // conns) * conns
        queued = len(json.loads(cm("outbox", "list", "--status", "pending", "--json").stdout))
        print(f"relay: {total} replies over {conns} connections in {secs:.2f} s = {total / secs:.0f} msgs/s "
              f"({len(msg)} bytes each, committed with synchronous=FULL); outbox now holds {queued}")
    finally:
        daemon.terminate()
        daemon.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
