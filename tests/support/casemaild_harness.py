"""What the casemaild end-to-end tests share: the three 311 mailboxes on a real Dovecot, citizens'
mail, casemaild run once or kept running with its log in a file."""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from casemail_harness import CasemailTestCase  # noqa: E402
from dovecot_harness import Dovecot  # noqa: E402

CASEMAILD = os.environ.get("CASEMAILD_BIN", "casemaild")
MAILBOXES = {
    "clerk": ("311CityClerk@city.example", "City Clerk"),
    "dwp": ("311DWP@city.example", "DWP"),
    "works": ("311PublicWorks@city.example", "Public Works"),
}


def mail(n, to, msg_id=True, subject=None, sender=None):
    lines = [f"From: Citizen {n} <{sender or f'citizen{n}@example.org'}>", f"To: {to}",
             f"Subject: {subject or f'Request number {n}'}", "Date: Mon, 23 Nov 2026 09:00:00 +0000"]
    if msg_id:
        lines.append(f"Message-ID: <req{n}@example.org>")
    return ("\r\n".join(lines) + f"\r\n\r\nPlease look at request {n}.\r\n").encode()


def once_with_clerk_mailbox(test, dovecot, login):
    """casemaild --once with one mailbox (the clerk's) on `dovecot`; `login` holds the secret and
    TLS keys of the [[mailbox]] entry."""
    config = os.path.join(test.dir, "casemail.toml")
    with open(config, "w") as f:
        f.write(f'[store]\npath = "casemail.db"\n[[mailbox]]\naddress = "{MAILBOXES["clerk"][0]}"\n'
                f'queue = "City Clerk"\nurl = "{dovecot.url}"\nuser = "clerk"\n{login}')
    return subprocess.run([CASEMAILD, "--config", config, "--once"], capture_output=True, text=True, timeout=60,
                          cwd=test.dir)


class LoggedDaemon:
    """casemaild running on `config`, its log in the test's directory; killed at cleanup."""

    def __init__(self, test, config):
        self.test = test
        self.path = os.path.join(test.dir, "casemaild.log")
        self.file = open(self.path, "w")
        test.addCleanup(self.file.close)
        self.proc = subprocess.Popen([CASEMAILD, "--config", config], stderr=self.file, cwd=test.dir)
        test.addCleanup(lambda: self.proc.poll() is None and self.proc.kill())

    def log(self):
        with open(self.path) as f:
            return f.read()

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.test.fail(f"timed out waiting for {what}:\n{self.log()[-3000:]}")


class CasemaildTestCase(CasemailTestCase):
    passwords = {"clerk": "clerk-pw", "dwp": "dwp-pw", "works": "works-pw"}

    def setUp(self):
        super().setUp()
        self.dovecot = Dovecot(self.dir, self.passwords).start()
        self.addCleanup(self.dovecot.stop)
        self.config = os.path.join(self.dir, "casemail.toml")
        self.write_config()

    def write_config(self, after="move:Processed", wrong_password_for=None, batch=20, users=MAILBOXES):
        text = f'[store]\npath = "casemail.db"\n[relay]\nenabled = false\n[daemon]\nfetch_batch = {batch}\n'
        for user, (address, queue) in users.items():
            secret = os.path.join(self.dir, f"{user}.secret")
            with open(secret, "w") as f:
                f.write(("wrong-" if user == wrong_password_for else "") + self.passwords[user] + "\n")
            text += (f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{self.dovecot.url}"\n'
                     f'user = "{user}"\npassword_file = "{user}.secret"\nallow_plaintext = true\n'
                     f'after_processing = "{after}"\npoll_interval = "1s"\n')
        with open(self.config, "w") as f:
            f.write(text)

    def casemaild(self, *args, timeout=120):
        proc = subprocess.run([CASEMAILD, "--config", self.config, *args], capture_output=True, text=True,
                              timeout=timeout, cwd=self.dir)
        return proc

    def once(self, expect_code=0):
        proc = self.casemaild("--once")
        self.assertEqual(proc.returncode, expect_code, proc.stderr)
        return proc.stderr

    def sql(self, query, *args):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def actions(self, log):
        return [l.split("action=")[1].split()[0] for l in log.splitlines() if " action=" in l]
