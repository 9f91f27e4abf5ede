"""IMAP IDLE against a real Dovecot: with a poll interval of five minutes, mail is taken within
seconds of its APPEND because casemaild waits in IDLE between polls; over STARTTLS with an
XOAUTH2 login as well; a server that does not offer IDLE is polled on the interval (and the log
says why); a server restart while casemaild idles loses nothing."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from casemaild_harness import MAILBOXES, LoggedDaemon, mail  # noqa: E402
from dovecot_harness import Dovecot, make_certificate  # noqa: E402

CLERK = MAILBOXES["clerk"][0]
# Dovecot's own list, less IDLE: an older server.
NO_IDLE = ("imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE UNSELECT "
           "CHILDREN UIDPLUS MOVE")


class IdleTest(CasemailTestCase):
    def start(self, dovecot, login, poll_interval="300s", extra=""):
        config = os.path.join(self.dir, "casemail.toml")
        with open(config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[relay]\nenabled = false\n[[mailbox]]\naddress = "{CLERK}"\n'
                    f'queue = "City Clerk"\nurl = "{dovecot.url}"\nuser = "clerk"\n{login}'
                    f'poll_interval = "{poll_interval}"\n{extra}')
        return LoggedDaemon(self, config)

    def password(self):
        with open(os.path.join(self.dir, "pw"), "w") as f:
            f.write("clerk-pw\n")
        return 'password_file = "pw"\n'

    def processed_within(self, dovecot, daemon, n, seconds):
        """Appends citizen mail n and waits for it to be processed (moved): the seconds taken."""
        before = dovecot.count("clerk", "Processed") or 0  # (None before the first poll made the folder)
        started = time.time()
        dovecot.append("clerk", [mail(n, CLERK)])
        daemon.wait_for(lambda: (dovecot.count("clerk", "Processed") or 0) == before + 1, f"message {n}", timeout=seconds)
        return time.time() - started

    def test_mail_is_taken_within_seconds_though_polls_are_five_minutes_apart(self):
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}).start()
        self.addCleanup(dovecot.stop)
        daemon = self.start(dovecot, self.password() + "allow_plaintext = true\n")
        daemon.wait_for(lambda: "event=idle state=on" in daemon.log(), "IDLE")
        for n in range(1, 6):
            self.assertLess(self.processed_within(dovecot, daemon, n, 10), 5)
            time.sleep(0.2 * n)  # quiet spells of different lengths
        # two at once, and one while the poll for them may still run: none waits for the interval
        dovecot.append("clerk", [mail(6, CLERK), mail(7, CLERK)])
        dovecot.append("clerk", [mail(8, CLERK)])
        daemon.wait_for(lambda: dovecot.count("clerk", "Processed") == 8, "three more", timeout=10)
        self.assertEqual(daemon.log().count("action=created"), 8)
        self.assertEqual(daemon.log().count("event=idle "), 1)  # logged when it started, not per wait

    def test_idle_over_starttls_with_an_xoauth2_login(self):
        cert, key = make_certificate(self.dir)
        dovecot = Dovecot(self.dir, {"clerk": "unused"}, tls=(cert, key), oauth2_tokens={"clerk-token": "clerk"}).start()
        self.addCleanup(dovecot.stop)
        with open(os.path.join(self.dir, "clerk.token"), "w") as f:
            f.write("clerk-token\n")
        daemon = self.start(dovecot, f'oauth2_token_file = "clerk.token"\nca_file = "{cert}"\n')
        daemon.wait_for(lambda: "event=idle state=on" in daemon.log(), "IDLE")
        for n in range(1, 4):
            self.assertLess(self.processed_within(dovecot, daemon, n, 10), 5)
        logins = [l for l in dovecot.log(tail=None).splitlines() if "Login: user=<clerk>, method=XOAUTH2" in l]
        self.assertGreaterEqual(len(logins), 2)  # casemail's two connections: commands, and fetch + IDLE
        self.assertTrue(all(", TLS" in l for l in logins), logins)  # both upgraded with STARTTLS

    def test_a_server_without_idle_is_polled_on_the_interval(self):
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}, extra_conf=NO_IDLE).start()
        self.addCleanup(dovecot.stop)
        daemon = self.start(dovecot, self.password() + "allow_plaintext = true\n", poll_interval="3s")
        daemon.wait_for(lambda: "event=idle state=off" in daemon.log(), "IDLE off")
        self.assertIn('reason="the server does not offer IDLE"', daemon.log())
        self.assertLess(self.processed_within(dovecot, daemon, 1, 10), 4.5)  # the next poll takes it

    def test_idle_can_be_turned_off(self):
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}).start()
        self.addCleanup(dovecot.stop)
        daemon = self.start(dovecot, self.password() + "allow_plaintext = true\n", poll_interval="2s",
                            extra="idle = false\n")
        self.assertLess(self.processed_within(dovecot, daemon, 1, 10), 3.5)
        self.assertNotIn("event=idle", daemon.log())

    def test_a_server_restart_while_idling_loses_nothing(self):
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}).start()
        self.addCleanup(dovecot.stop)
        daemon = self.start(dovecot, self.password() + "allow_plaintext = true\n", poll_interval="2s")
        daemon.wait_for(lambda: "event=idle state=on" in daemon.log(), "IDLE")
        dovecot.stop()  # the idling connection is closed under casemaild
        time.sleep(1)
        dovecot.start()
        self.processed_within(dovecot, daemon, 1, 30)
        self.processed_within(dovecot, daemon, 2, 30)
        self.assertEqual(daemon.log().count("action=created"), 2)
        self.assertIsNone(daemon.proc.poll())
