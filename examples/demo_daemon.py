#!/usr/bin/env python3
"""The daemon half of the demo: casemaild polling the three 311 mailboxes of a throwaway local
Dovecot, and the relay rewriting an agent's reply, delivered to a local SMTP sink.

Usage: examples/demo_daemon.py BUILD_DIR RUN_DIR   (called by examples/demo.sh)
Everything listens on 127.0.0.1 and is stopped at the end.
"""
import email
import email.policy
import glob
import json
import os
import socket
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "tests", "support"))
from dovecot_harness import Dovecot  # noqa: E402

MAILBOXES = {"cityclerk": ("311CityClerk@city.example", "City Clerk"),
             "dwp": ("311DWP@city.example", "DWP"),
             "publicworks": ("311PublicWorks@city.example", "Public Works")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    sys.exit(f"demo: timed out waiting for {what}")


def main():
    build, run = sys.argv[1], os.path.abspath(sys.argv[2])
    casemail = os.path.join(build, "bin", "casemail")
    casemaild = os.path.join(build, "bin", "casemaild")
    os.makedirs(run, exist_ok=True)
    dovecot = Dovecot(run, {user: f"{user}-demo-pw" for user in MAILBOXES}).start()
    relay_port, sink_port = free_port(), free_port()
    sink_dir = os.path.join(run, "sink")
    sink = subprocess.Popen(["/usr/bin/python3", os.path.join(root, "tests", "support", "smtp_sink.py"),
                             str(sink_port), sink_dir], stderr=subprocess.DEVNULL)
    daemon = None
    try:
        config = os.path.join(run, "casemail.toml")
        text = (f'[store]\npath = "casemail.db"\n[tracking]\nmessage_id_domain = "casemail.city.example"\n'
                f'[relay]\nlisten = "127.0.0.1:{relay_port}"\n'
                f'[upstream]\nurl = "smtp://127.0.0.1:{sink_port}"\nallow_plaintext = true\npoll_interval = "1s"\n')
        for user, (address, queue) in MAILBOXES.items():
            with open(os.path.join(run, f"{user}.secret"), "w") as f:
                f.write(f"{user}-demo-pw\n")
            os.chmod(os.path.join(run, f"{user}.secret"), 0o600)
            text += (f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{dovecot.url}"\nuser = "{user}"\n'
                     f'password_file = "{user}.secret"\nallow_plaintext = true\npoll_interval = "2s"\n')
            dovecot.append(user, [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(root, "examples", "mail",
                                                                                             user, "*.eml")))])
        with open(config, "w") as f:
            f.write(text)
        cm = lambda *a: subprocess.run([casemail, "--config", config, *a], check=True, capture_output=True, text=True).stdout
        cm("init")
        cm("contact", "add", "--email", "family@example.net", "--name", "Raj Patel", "--registered")
        cm("contact", "add", "--email", "family@example.net", "--name", "Priya Patel", "--registered")
        print(f"== casemaild polls the three mailboxes of a local Dovecot (IMAP on {dovecot.url})")
        log_path = os.path.join(run, "casemaild.log")
        log = open(log_path, "w")
        daemon = subprocess.Popen([casemaild, "--config", config], stderr=log)
        wait_for(lambda: all(dovecot.count(u) == 0 for u in MAILBOXES), "the mailboxes to drain")
        time.sleep(0.5)
        for line in open(log_path):
            if " action=" in line or "event=" in line:
                print("  " + line.split("casemaild: ", 1)[-1].rstrip())
        print("\n== casemail status")
        print(cm("status"))
        cases = json.loads(cm("case", "list", "--json"))
        noise = next(c for c in cases if "noise" in c["title"].lower())
        print(f"== an agent replies to {noise['token']} through the relay, addressed to everyone in the family "
              f"and a neighbour")
        swaks = subprocess.run(["swaks", "--server", f"127.0.0.1:{relay_port}", "--from", "agent@city.example",
                                "--to", "family@example.net,neighbour@example.org",
                                "--header", f"Subject: RE: {noise['title']} [{noise['token']}]",
                                "--add-header", "Cc: neighbour@example.org",
                                "--body", "An inspector will visit the depot on Thursday."],
                               capture_output=True, text=True)
        print("  relay: " + next(l for l in swaks.stdout.splitlines() if "queued as" in l or l.startswith("<** ")).strip())
        wait_for(lambda: any("Thursday" in json.load(open(p))["data"]
                             for p in glob.glob(os.path.join(sink_dir, "*.json"))), "the reply to be delivered")
        print("\n== what the upstream SMTP server received (acknowledgements, then the reply)")
        for p in sorted(glob.glob(os.path.join(sink_dir, "*.json"))):
            m = json.load(open(p))
            msg = email.message_from_string(m["data"], policy=email.policy.default)
            print(f"  {m['mail_from']} -> {', '.join(m['rcpt_tos'])}   Subject: {msg['Subject']}")
        print("\n== casemail outbox list")
        print(cm("outbox", "list"))
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        sink.terminate()
        dovecot.stop()


if __name__ == "__main__":
    main()
