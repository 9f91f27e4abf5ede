"""A store that runs out of room, or turns read-only, under a running casemaild: commits fail
cleanly, nothing is acknowledged (the mail stays in the mailbox's INBOX, the agent's reply is
answered 451 and stays with the agent's server), the mailbox backs off, and when room returns
casemaild recovers by itself with nothing lost or duplicated. The store lives on a small
size-limited tmpfs (mounting needs root: the test is skipped otherwise, saying so)."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from casemaild_harness import MAILBOXES, LoggedDaemon, mail  # noqa: E402
from dovecot_harness import Dovecot, free_port  # noqa: E402

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
CLERK = MAILBOXES["clerk"][0]


def big_mail(n):
    """A citizen's mail with a 150 KB photo: more than a full store has room for."""
    photo = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk" * 40 + "\r\n") * 64
    return (f"From: Citizen {n} <citizen{n}@example.org>\r\nTo: {CLERK}\r\nSubject: Pothole photo {n}\r\n"
            f"Message-ID: <photo{n}@example.org>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
            f"Photo attached, request {n}.\r\n--b\r\nContent-Type: image/png; name=\"pothole.png\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{photo}--b--\r\n").encode()


class StoreTestCase(CasemailTestCase):
    """casemaild with its store in store/ (mounted by the subclass), one mailbox, the relay."""

    def configure(self):
        self.dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}).start()
        self.addCleanup(self.dovecot.stop)
        self.relay_port = free_port()
        with open(os.path.join(self.dir, "pw"), "w") as f:
            f.write("clerk-pw\n")
        self.config = os.path.join(self.dir, "casemail.toml")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "store/casemail.db"\n[daemon]\nmax_backoff = "2s"\n'
                    f'[relay]\nlisten = "127.0.0.1:{self.relay_port}"\n'
                    f'[[mailbox]]\naddress = "{CLERK}"\nqueue = "City Clerk"\nurl = "{self.dovecot.url}"\n'
                    f'user = "clerk"\npassword_file = "pw"\nallow_plaintext = true\npoll_interval = "1s"\n')

    def cases(self):
        return len(self.ok_json("--config", self.config, "case", "list", db=False))

    def reply(self, token, n):
        """An agent's reply through the relay with swaks, a 1 MB scan of the work order attached
        (more than the full store's free WAL pages hold): its SMTP transcript."""
        scan = os.path.join(self.dir, "scan.pdf")
        with open(scan, "wb") as f:
            f.write(os.urandom(1 << 20))
        return subprocess.run([SWAKS, "--server", f"127.0.0.1:{self.relay_port}", "--from", "asmith@city.example",
                               "--to", f"citizen{n}@example.org", "--header", f"Subject: RE: Request [{token}]",
                               "--body", f"On it ({n}).", "--attach-type", "application/pdf", "--attach", f"@{scan}",
                               "--suppress-data", "--timeout", "15"],
                              capture_output=True, text=True, timeout=30).stdout

    def fill(self):
        """Fills the store's file system to the last byte."""
        chunk = b"\0" * 65536
        with open(os.path.join(self.store_dir, "filler"), "wb", buffering=0) as f:  # (no buffer to flush at close)
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
            try:
                while True:
                    f.write(b"\0")  # the last bytes a 64 KB write could not take
            except OSError:
                pass


class FullStoreTest(StoreTestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a size-limited tmpfs needs root")
        self.store_dir = os.path.join(self.dir, "store")
        os.makedirs(self.store_dir)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", self.store_dir],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + mounted.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.store_dir])
        self.configure()

    def test_full_then_room_again(self):
        daemon = LoggedDaemon(self, self.config)
        daemon.wait_for(lambda: "event=relay-listening" in daemon.log(), "the relay")
        self.dovecot.append("clerk", [mail(1, CLERK), mail(2, CLERK)])
        daemon.wait_for(lambda: self.dovecot.count("clerk", "Processed") == 2, "two cases")
        token = self.ok_json("--config", self.config, "case", "list", db=False)[0]["token"]

        self.fill()
        self.dovecot.append("clerk", [big_mail(n) for n in range(3, 6)])
        daemon.wait_for(lambda: daemon.log().count("event=failing") >= 1, "the mailbox failing")
        time.sleep(3)  # several more attempts, backing off
        self.assertIn("full", daemon.log().split("event=failing")[1].split("\n")[0])
        self.assertEqual(self.dovecot.count("clerk", "INBOX"), 3)  # nothing acknowledged
        self.assertEqual(self.dovecot.count("clerk", "Processed"), 2)
        transcript = self.reply(token, 1)
        self.assertIn("<** 451", transcript)  # try again later: the agent's server keeps it
        self.assertIsNone(daemon.proc.poll())

        os.unlink(os.path.join(self.store_dir, "filler"))
        daemon.wait_for(lambda: self.dovecot.count("clerk", "Processed") == 5, "the waiting mail", timeout=30)
        daemon.wait_for(lambda: "event=recovered" in daemon.log(), "recovered")
        self.assertIn("<-  250", self.reply(token, 1))
        self.assertEqual(self.dovecot.count("clerk", "INBOX"), 0)
        self.assertEqual(self.cases(), 5)  # each message once
        self.assertEqual(daemon.log().count("action=created"), 5)
        self.ok("--config", self.config, "check", "--all", db=False)
        log = daemon.log()
        self.assertIn('action=tempfail reason="database or disk is full"', log)
        self.assertNotIn("rollback-failed", log)  # SQLite had rolled back already: nothing to report


class ReadOnlyStoreTest(StoreTestCase):
    """The store on ext4 (a loop device) that the kernel turns read-only after an error, as it
    would after a failing disk: the same clean failure; `status --check` says so; after the
    operator's remount and a restart, the waiting mail is taken once."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a loop device needs root")
        self.image = os.path.join(self.dir, "store.img")
        self.store_dir = os.path.join(self.dir, "store")
        os.makedirs(self.store_dir)
        with open(self.image, "wb") as f:
            f.truncate(32 << 20)
        made = subprocess.run(["mkfs.ext4", "-q", self.image], capture_output=True, text=True)
        if made.returncode != 0:
            self.skipTest("cannot make an ext4 image here: " + made.stderr.strip())
        if not self.mount():
            self.skipTest("cannot mount a loop device here")
        self.addCleanup(subprocess.run, ["umount", "-l", self.store_dir])
        self.configure()

    def mount(self):
        return subprocess.run(["mount", "-o", "loop,errors=remount-ro", self.image, self.store_dir],
                              capture_output=True).returncode == 0

    def test_read_only_then_remounted(self):
        device = subprocess.run(["findmnt", "-n", "-o", "SOURCE", self.store_dir], capture_output=True,
                                text=True).stdout.strip()
        trigger = f"/sys/fs/ext4/{os.path.basename(device)}/trigger_fs_error"
        if not os.path.exists(trigger):
            self.skipTest("this kernel has no " + trigger)
        daemon = LoggedDaemon(self, self.config)
        daemon.wait_for(lambda: "event=relay-listening" in daemon.log(), "the relay")
        self.dovecot.append("clerk", [mail(1, CLERK), mail(2, CLERK)])
        daemon.wait_for(lambda: self.dovecot.count("clerk", "Processed") == 2, "two cases")
        token = self.ok_json("--config", self.config, "case", "list", db=False)[0]["token"]

        with open(trigger, "w") as f:
            f.write("casemail test\n")
        self.dovecot.append("clerk", [mail(3, CLERK), mail(4, CLERK)])
        daemon.wait_for(lambda: "event=failing" in daemon.log(), "the mailbox failing")
        time.sleep(2)
        self.assertEqual(self.dovecot.count("clerk", "INBOX"), 2)  # nothing acknowledged
        self.assertIn("<** 451", self.reply(token, 1))
        self.assertIsNone(daemon.proc.poll())
        check = self.run_cli("--config", self.config, "status", "--check", db=False)
        self.assertEqual(check.code, 2, check.out)  # critical: the store-read-only alarm
        self.assertIn("CASEMAIL CRITICAL - the store's file system is read-only", check.out)

        daemon.proc.terminate()  # the operator: stop, remount (after a check), start again
        daemon.proc.wait(10)
        self.assertEqual(daemon.proc.returncode, 0)
        subprocess.run(["umount", self.store_dir], check=True)
        subprocess.run(["fsck.ext4", "-p", self.image], capture_output=True)
        self.assertTrue(self.mount())
        daemon = LoggedDaemon(self, self.config)
        daemon.wait_for(lambda: self.dovecot.count("clerk", "Processed") == 4, "the waiting mail")
        self.assertEqual(self.cases(), 4)
        self.assertIn("<-  250", self.reply(token, 1))
        self.ok("--config", self.config, "check", "--all", db=False)
