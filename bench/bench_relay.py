#!/usr/bin/env python3
"""Relay throughput: agents' replies/s that casemaild accepts over loopback SMTP, each
committed to the durable outbox (WAL, synced) before its 250.

Usage: bench/bench_relay.py BUILD_DIR [MESSAGES] [CONNECTIONS] [plain|pipelining] [--drain N]
       (default 2000 over 4, plain)
--drain N: casemaild also drains N 4 KB messages from a throwaway local Dovecot (needs
dovecot-imapd) while the replies come in, through the same store writer: prints the relay's
latency beside the drain's rate, the 451s seen, and casemaild's peak RSS.
CASEMAIL_BENCH_WRAP: a command casemaild runs under (a profiler), e.g. "perf record -g -o FILE".
No upstream is configured, so nothing is delivered: this measures accept + rewrite + commit.
plain: Python's smtplib, one command and one answer at a time. pipelining: the way mail
clients and MTAs send (RFC 2920): MAIL, RCPT, DATA in one write; the message, its end and the
next MAIL, RCPT, DATA in the next. Prints replies/s and the time from a message's last byte to
its 250 (p50, p99).
"""
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import multiprocessing
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "support"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plain(port, msg, count, latencies):
    with smtplib.SMTP("127.0.0.1", port) as s:
        for _ in range(count):
            t0 = time.perf_counter()
            s.sendmail("asmith@city.example", ["ann@example.org", "neighbour@example.org"], msg)
            latencies.append(time.perf_counter() - t0)


def pipelining(port, msg, count, latencies):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    reader = sock.makefile("rb")

    def replies(k):  # k final reply lines
        got = []
        while len(got) < k:
            line = reader.readline()
            if not line:
                raise OSError("relay closed the connection")
            if line[3:4] == b" ":
                got.append(line)
        return got

    replies(1)
    sock.sendall(b"EHLO bench\r\n")
    replies(1)
    envelope = b"MAIL FROM:<asmith@city.example>\r\nRCPT TO:<ann@example.org>\r\nRCPT TO:<neighbour@example.org>\r\nDATA\r\n"
    data = msg.encode().replace(b"\r\n.", b"\r\n..") + b".\r\n"
    sock.sendall(envelope)
    assert replies(4)[-1].startswith(b"354")
    for i in range(count):
        last = i == count - 1
        t0 = time.perf_counter()
        sock.sendall(data + (b"QUIT\r\n" if last else envelope))
        got = replies(2 if last else 5)
        latencies.append(time.perf_counter() - t0)
        if not got[0].startswith(b"250"):
            raise OSError(got[0].decode())
    sock.close()


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def drain_message(i):
    body = ("The street light outside number %d has been out for a week. " % i) * 60
    return (f"From: Citizen {i} <citizen{i}@example.org>\r\nTo: 311PublicWorks@city.example\r\n"
            f"Subject: Street light out, report {i}\r\nMessage-ID: <bench{i}@example.org>\r\n"
            f"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\n{body}\r\n").encode()


def start_dovecot(root, n):
    from dovecot_harness import Dovecot  # noqa: E402
    dovecot = Dovecot(root, {"works": "pw"}).start()
    dovecot.append("works", (drain_message(i) for i in range(n)))
    with open(os.path.join(root, "pw"), "w") as f:
        f.write("pw\n")
    return dovecot, (f'[[mailbox]]\naddress = "311PublicWorks@city.example"\nqueue = "Public Works"\n'
                     f'url = "{dovecot.url}"\nuser = "works"\npassword_file = "pw"\nallow_plaintext = true\n'
                     f'poll_interval = "1s"\n')


def client(job):
    """One connection's replies; returns their latencies, or the error as a string."""
    mode, port, msg, count = job
    latencies = []
    try:
        (pipelining if mode == "pipelining" else plain)(port, msg, count, latencies)
    except Exception as e:  # noqa: BLE001
        return repr(e)
    return latencies


def main():
    args = sys.argv[1:]
    drain = 0
    if "--drain" in args:
        k = args.index("--drain")
        drain = int(args[k + 1])
        del args[k:k + 2]
    build = args[0] if len(args) > 0 else "build"
    n = int(args[1]) if len(args) > 1 else 2000
    conns = int(args[2]) if len(args) > 2 else 4
    mode = args[3] if len(args) > 3 else "plain"
    casemail = os.path.abspath(os.path.join(build, "bin", "casemail"))
    casemaild = os.path.abspath(os.path.join(build, "bin", "casemaild"))
    root = tempfile.mkdtemp(prefix="casemail-bench-relay-")
    port = free_port()
    config = os.path.join(root, "casemail.toml")
    dovecot, mailbox = start_dovecot(root, drain) if drain else (None, "")
    with open(config, "w") as f:
        # WAIT_US: the writer's commit_group_wait_us (default: the daemon's own).
        wait_us = f'commit_group_wait_us = {os.environ["WAIT_US"]}\n' if "WAIT_US" in os.environ else ""
        f.write(f'[store]\npath = "casemail.db"\n[ingest]\nauto_ack = false\n[daemon]\n{wait_us}[relay]\nlisten = "127.0.0.1:{port}"\n{mailbox}')
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
    # CASEMAIL_BENCH_WRAP="perf record -g -o /tmp/relay.perf": run casemaild under a profiler.
    wrap = os.environ.get("CASEMAIL_BENCH_WRAP", "").split()
    daemon = subprocess.Popen([*wrap, casemaild, "--config", config], stderr=log)
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
        jobs = [(mode, port, msg, n // conns) for _ in range(conns)]
        cpu0 = cpu_seconds(daemon.pid)
        t = time.time()
        with multiprocessing.Pool(conns) as pool:  # processes, not threads: the GIL must not be the limit
            results = pool.map(client, jobs)
        secs = time.time() - t
        cpu = cpu_seconds(daemon.pid) - cpu0
        errors = [r for r in results if isinstance(r, str)]
        latencies = [x for r in results if not isinstance(r, str) for x in r]
        if drain:
            while dovecot.count("works") and time.time() - t < 300:
                time.sleep(0.05)
            drained = time.time() - t
            with open(os.path.join(root, "casemaild.log")) as f:
                stored = f.read().count("action=created")
            print(f"drain beside the relay: {stored} of {drain} messages in {drained:.2f} s = {stored / drained:.0f} msgs/s; "
                  f"casemaild peak RSS {peak_rss_mb(daemon.pid):.0f} MB; 451 answers: "
                  f"{sum(e.count('451') for e in errors)}")
        if errors:
            sys.exit("errors: " + "; ".join(errors[:3]))
        total = (n // conns) * conns
        queued = len(json.loads(cm("outbox", "list", "--status", "pending", "--json").stdout))
        latencies.sort()
        p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)]
        print(f"relay ({mode}): {total} replies over {conns} connections in {secs:.2f} s = {total / secs:.0f} msgs/s "
              f"({len(msg)} bytes each, committed and synced); 250 after p50 {p50 * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms; casemaild CPU {cpu / total * 1e6:.0f} us per reply; outbox now holds {queued}")
    finally:
        daemon.terminate()
        daemon.wait()
        log.close()
        if dovecot:
            dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
