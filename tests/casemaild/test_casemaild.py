"""casemaild against a real Dovecot on 127.0.0.1: the three 311 mailboxes, polled for real."""
import itertools
import json
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from casemaild_harness import (CASEMAILD, MAILBOXES, CasemaildTestCase, LoggedDaemon, mail,  # noqa: E402
                               once_with_clerk_mailbox)
from dovecot_harness import Dovecot, make_certificate  # noqa: E402
from token_endpoint import TokenEndpoint  # noqa: E402


class PollTest(CasemaildTestCase):
    def test_three_mailboxes_polled_moved_and_idempotent(self):
        self.dovecot.append("clerk", [mail(1, MAILBOXES["clerk"][0]), mail(2, MAILBOXES["clerk"][0])])
        self.dovecot.append("dwp", [mail(3, MAILBOXES["dwp"][0])])
        self.dovecot.append("works", [mail(4, MAILBOXES["works"][0], msg_id=False)])
        log = self.once()
        self.assertEqual(sorted(self.actions(log)), ["created"] * 4, log)
        cases = self.ok_json("case", "list")
        self.assertEqual(sorted(c["queue"] for c in cases), ["City Clerk", "City Clerk", "DWP", "Public Works"])
        for user, n in (("clerk", 2), ("dwp", 1), ("works", 1)):
            self.assertEqual(self.dovecot.count(user, "INBOX"), 0)
            self.assertEqual(self.dovecot.count(user, "Processed"), n)
        # one structured line per message, no secrets
        line = next(l for l in log.splitlines() if "uid=1 " in l and "311CityClerk" in l)
        for field in ("mailbox=311CityClerk@city.example", "uid=1", "message_id=<req1@example.org>",
                      "action=created", "case=311-", "ms="):
            self.assertIn(field, line)
        self.assertNotIn("clerk-pw", log)

        # a second poll does nothing
        log = self.once()
        self.assertEqual(self.actions(log), [])
        self.assertEqual(len(self.ok_json("case", "list")), 4)

        # a message appended between polls is picked up, and a reply threads to its case
        token = next(c["token"] for c in cases if c["queue"] == "DWP")
        self.dovecot.append("dwp", [mail(5, MAILBOXES["dwp"][0], subject=f"RE: Request number 3 [{token}]",
                                         sender="citizen3@example.org")])
        log = self.once()
        self.assertEqual(self.actions(log), ["linked"])
        self.assertEqual(len(self.ok_json("case", "show", token)["emails"]), 2)

        status = {s["mailbox"]: s for s in self.ok_json("status")["mailboxes"]}
        self.assertEqual(status["311DWP@city.example"]["processed"], 2)
        self.assertEqual(status["311DWP@city.example"]["last_uid"], 2)
        self.assertEqual(status["311DWP@city.example"]["backlog"], 0)
        self.assertFalse(status["311DWP@city.example"]["failing"])
        self.assertIsNotNone(status["311DWP@city.example"]["uidvalidity"])
        self.assertIsNotNone(status["311DWP@city.example"]["last_poll_at"])

    def test_a_reused_message_id_loses_no_mail(self):
        clerk, works, dwp = MAILBOXES["clerk"][0], MAILBOXES["works"][0], MAILBOXES["dwp"][0]
        scan = (f"From: Scanner <scanner@city.example>\r\nTo: {clerk}\r\nSubject: Scanned document\r\n"
                f"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <1@scanner>\r\n\r\nPage 1.\r\n").encode()
        tree = (f"From: Dana Cruz <dana@example.org>\r\nTo: {works}, {dwp}\r\nSubject: tree down on Pine Ave\r\n"
                f"Date: Mon, 23 Nov 2026 10:15:00 +0000\r\nMessage-ID: <1@scanner>\r\n\r\nA tree is down.\r\n").encode()
        self.dovecot.append("clerk", [scan])
        self.assertEqual(self.actions(self.once()), ["created"])
        self.dovecot.append("works", [b"Delivered-To: " + works.encode() + b"\r\n" + tree])
        self.dovecot.append("dwp", [b"Delivered-To: " + dwp.encode() + b"\r\n" + tree])
        log = self.once()
        self.assertEqual(sorted(self.actions(log)), ["created", "duplicate"], log)  # the tree, once
        titles = sorted(c["title"] for c in self.ok_json("case", "list"))
        self.assertEqual(titles, ["Scanned document", "tree down on Pine Ave"])
        for user in ("clerk", "works", "dwp"):
            self.assertEqual(self.dovecot.count(user, "INBOX"), 0)

    def test_a_flood_from_one_address_is_history_and_logged_once(self):
        with open(self.config, "a") as f:
            f.write("[ingest]\nmax_new_cases_per_sender = 3\n")
        works = MAILBOXES["works"][0]
        self.dovecot.append("works", [mail(n, works, sender="flood@example.org") for n in range(1, 13)])
        log = self.once()
        self.assertEqual(self.actions(log), ["created"] * 3 + ["linked"] * 9, log)
        self.assertEqual(log.count("event=flood"), 1, log)
        self.assertEqual(len(self.ok_json("case", "list")), 3)
        review = self.ok_json("review", "list")
        self.assertEqual(len(review), 1)
        self.assertIn("flood guard: flood@example.org opened 3 cases", review[0]["reason"])
        self.assertEqual(self.dovecot.count("works", "INBOX"), 0)  # every one stored and moved

    def test_uidvalidity_reset_makes_no_duplicates(self):
        self.write_config(after="flag")
        self.dovecot.append("clerk", [mail(i, MAILBOXES["clerk"][0], msg_id=(i % 2 == 0)) for i in range(6)])
        self.assertEqual(self.actions(self.once()), ["created"] * 6)
        self.assertEqual(self.dovecot.count("clerk", "INBOX"), 6)  # flagged, not moved
        self.assertEqual(self.dovecot.flagged("clerk", "$CasemailProcessed"), 6)
        before = self.ok_json("status")["mailboxes"][0]["uidvalidity"]
        self.dovecot.set_uidvalidity("clerk", 4242)
        log = self.once()
        self.assertIn(f"event=uidvalidity-changed old={before} new=4242", log)
        self.assertEqual(self.actions(log), ["duplicate"] * 6)
        self.assertEqual(self.sql("SELECT count(*) FROM email")[0][0], 6)
        self.assertEqual(len(self.ok_json("case", "list")), 6)

    def test_thousands_waiting_are_all_taken(self):
        # libcurl clips a response line over 8 KB: one "* SEARCH" line of 3,000 UIDs lost
        # the middle half of them, and the cursor then skipped them for good.
        self.write_config(users={"works": MAILBOXES["works"]}, batch=500)
        self.dovecot.deliver("works", [mail(i, MAILBOXES["works"][0]) for i in range(3000)])
        self.assertEqual(self.dovecot.count("works"), 3000)
        log = self.once()
        self.assertEqual(len(self.actions(log)), 3000)
        self.assertEqual(self.dovecot.count("works"), 0)
        self.assertEqual(self.dovecot.count("works", "Processed"), 3000)

    def test_delete_after_processing(self):
        self.write_config(after="delete")
        self.dovecot.append("works", [mail(i, MAILBOXES["works"][0]) for i in range(3)])
        self.once()
        self.assertEqual(self.dovecot.count("works", "INBOX"), 0)
        self.assertIsNone(self.dovecot.count("works", "Processed"))
        self.assertEqual(self.sql("SELECT count(*) FROM email")[0][0], 3)

    def test_wrong_password_on_one_mailbox_does_not_stop_the_others(self):
        self.write_config(wrong_password_for="dwp")
        for user, (address, _) in MAILBOXES.items():
            self.dovecot.append(user, [mail(hash(user) % 1000, address)])
        log = self.once(expect_code=1)
        self.assertEqual(self.actions(log), ["created", "created"], log)
        self.assertIn("mailbox=311DWP@city.example event=failing", log)
        self.assertNotIn("wrong-dwp-pw", log)
        self.assertEqual(self.dovecot.count("dwp", "INBOX"), 1)
        status = {s["mailbox"]: s for s in self.ok_json("status")["mailboxes"]}
        self.assertTrue(status["311DWP@city.example"]["failing"])
        self.assertIn("Login", status["311DWP@city.example"]["last_error"])
        self.assertFalse(status["311CityClerk@city.example"]["failing"])
        # fixed password: the backlog drains
        self.write_config()
        self.assertEqual(self.actions(self.once()), ["created"])
        status = {s["mailbox"]: s for s in self.ok_json("status")["mailboxes"]}
        self.assertFalse(status["311DWP@city.example"]["failing"])

    def test_server_down_is_an_error_not_a_crash(self):
        self.dovecot.stop()
        log = self.once(expect_code=1)
        self.assertEqual(log.count("event=failing"), 3)
        self.assertIn("Couldn't connect", log)

    def test_check_config(self):
        proc = self.casemaild("--check-config")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("OK (3 mailbox(es)", proc.stdout)
        with open(self.config, "a") as f:
            f.write('poll_intervall = "5s"\n')
        proc = self.casemaild("--check-config")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"casemail\.toml:\d+: key 'mailbox\[3\]\.poll_intervall': unknown key")
        with open(self.config, "a") as f:
            f.write('folder = ""\n')
        proc = self.casemaild("--check-config")
        self.assertEqual(proc.returncode, 1)
        lines = proc.stderr.strip().splitlines()  # one error per line, in file order
        self.assertEqual(len(lines), 2, proc.stderr)
        self.assertIn("poll_intervall", lines[0])
        self.assertIn("mailbox[3].folder", lines[1])
        proc = self.casemaild("--once")
        self.assertEqual(proc.returncode, 1)
        invalid = [l for l in proc.stderr.splitlines() if "event=config-invalid" in l]
        self.assertEqual(len(invalid), 2, proc.stderr)
        self.assertIn("poll_intervall", invalid[0])


class TlsTest(CasemailTestCase):
    """imap:// means STARTTLS, required unless allow_plaintext; the server's certificate is
    verified (here against the test's own CA file)."""

    def once_against(self, dovecot, extra=""):
        with open(os.path.join(self.dir, "pw"), "w") as f:
            f.write("clerk-pw\n")
        return once_with_clerk_mailbox(self, dovecot, 'password_file = "pw"\n' + extra)

    def test_starttls_required_and_verified(self):
        cert, key = make_certificate(self.dir)
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}, tls=(cert, key)).start()
        self.addCleanup(dovecot.stop)
        proc = self.once_against(dovecot)  # the self-signed certificate is not trusted
        self.assertEqual(proc.returncode, 1)
        self.assertIn("event=failing", proc.stderr)
        self.assertIn("SSL certificate problem", proc.stderr)
        proc = self.once_against(dovecot, f'ca_file = "{cert}"\n')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("event=stopped failed_mailboxes=0", proc.stderr)

    def test_no_starttls_offered_is_refused_without_allow_plaintext(self):
        dovecot = Dovecot(self.dir, {"clerk": "clerk-pw"}).start()  # plaintext only
        self.addCleanup(dovecot.stop)
        proc = self.once_against(dovecot)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("STARTTLS not available", proc.stderr)
        self.assertNotIn("clerk-pw", proc.stderr)
        self.assertNotIn("Login: user=<clerk>", dovecot.log())  # the password never went out in the clear


class OAuth2Test(CasemailTestCase):
    """oauth2_token_file: the XOAUTH2 login Microsoft 365 mailboxes need, against Dovecot's
    oauth2 passdb; the token file is read again at each connection (rotation without restart)."""

    def test_bearer_token_login_and_rotation(self):
        dovecot = Dovecot(self.dir, {"clerk": "unused-pw"}, oauth2_tokens={"fresh-token": "clerk"}).start()
        self.addCleanup(dovecot.stop)
        dovecot.append("clerk", [mail(1, MAILBOXES["clerk"][0])])
        token_file = os.path.join(self.dir, "clerk.token")
        with open(token_file, "w") as f:
            f.write("expired-token\n")
        run = lambda: once_with_clerk_mailbox(self, dovecot,
                                              'oauth2_token_file = "clerk.token"\nallow_plaintext = true\n')
        proc = run()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("event=failing", proc.stderr)
        self.assertNotIn("expired-token", proc.stderr)
        self.assertEqual(dovecot.introspection.requests, ["expired-token"])
        with open(token_file, "w") as f:  # the token was refreshed by the city's token service
            f.write("fresh-token\n")
        proc = run()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("action=created", proc.stderr)
        self.assertIn("Login: user=<clerk>, method=XOAUTH2", dovecot.log())  # what Microsoft 365 speaks
        self.assertEqual(dovecot.count("clerk", "Processed"), 1)


class OAuth2RefreshTest(CasemailTestCase):
    """casemaild fetches its own XOAUTH2 tokens from a token endpoint (standing in for Microsoft
    Entra): the client credentials grant for one mailbox and the upstream, the refresh token grant
    (rotated, persisted) for another, renewal before expiry without a restart, the endpoint's
    refusal shown in `status`, the endpoint down; a password mailbox goes on regardless."""

    def test_tokens_fetched_renewed_rotated_refused_and_endpoint_down(self):
        accepted = {}
        tokens_file = os.path.join(self.dir, "issued-tokens")
        dovecot = Dovecot(self.dir, {"clerk": "unused", "works": "unused", "dwp": "dwp-pw"},
                          oauth2_tokens=accepted).start()
        self.addCleanup(dovecot.stop)
        endpoint = TokenEndpoint(accepted, tokens_file, lifetime=3)
        self.addCleanup(endpoint.stop)
        endpoint.clients["casemail-app"] = ("app-secret-value", "clerk")
        endpoint.clients["casemail-smtp"] = ("smtp-secret-value", "311@city.example")
        endpoint.refresh["casemail-public"] = ["refresh-0", "works"]
        for name, value in (("clerk.secret", "app-secret-value"), ("smtp.secret", "smtp-secret-value"),
                            ("works.refresh", "refresh-0"), ("dwp.secret", "dwp-pw")):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(value + "\n")
        sink_port = free_port()
        sink_dir = os.path.join(self.dir, "sink")
        os.makedirs(sink_dir)
        sink = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                 "support", "smtp_sink.py"), str(sink_port), sink_dir, "--xoauth2", "@" + tokens_file])
        self.addCleanup(lambda: sink.poll() is None and sink.kill())
        config = os.path.join(self.dir, "casemail.toml")
        oauth = f'oauth2_token_url = "{endpoint.url}"\nallow_plaintext = true\n'
        plain = 'allow_plaintext = true\n'
        with open(config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[relay]\nenabled = false\n[daemon]\nmax_backoff = "1s"\n'
                    f'[upstream]\nurl = "smtp://127.0.0.1:{sink_port}"\nuser = "311@city.example"\n{oauth}'
                    f'oauth2_client_id = "casemail-smtp"\noauth2_client_secret_file = "smtp.secret"\npoll_interval = "1s"\n')
            for user, secret in (("clerk", 'oauth2_client_id = "casemail-app"\noauth2_client_secret_file = "clerk.secret"\n'),
                                 ("works", 'oauth2_client_id = "casemail-public"\noauth2_refresh_token_file = "works.refresh"\n'),
                                 ("dwp", 'password_file = "dwp.secret"\n')):
                address, queue = MAILBOXES[user]
                f.write(f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{dovecot.url}"\nuser = "{user}"\n'
                        f'{secret}{oauth if user != "dwp" else plain}poll_interval = "1s"\n')
        cli = lambda *a: self.run_cli("--config", config, *a, db=False)
        self.assertEqual(cli("init").code, 0)
        daemon = LoggedDaemon(self, config)
        log, wait_for = daemon.log, daemon.wait_for

        def status(mailbox):
            return next(m for m in cli("status", "--json").json()["mailboxes"] if m["mailbox"] == MAILBOXES[mailbox][0])

        cases = lambda: len(cli("case", "list", "--json").json())
        for n, user in enumerate(("clerk", "works", "dwp")):
            dovecot.append(user, [mail(n, MAILBOXES[user][0])])
        wait_for(lambda: cases() == 3, "three cases")
        self.assertIsNotNone(status("clerk")["access_token_expires_at"])
        self.assertIn("Login: user=<clerk>, method=XOAUTH2", dovecot.log())
        # The acknowledgements go out through the upstream with its own token.
        wait_for(lambda: len([p for p in os.listdir(sink_dir) if p.endswith(".json")]) >= 3, "three acknowledgements")
        with open(os.path.join(sink_dir, "0001.json")) as f:
            self.assertEqual(json.load(f)["auth"], "311@city.example")

        # Tokens live 3 s: renewed before they expire, sessions log in again, no restart.
        first = len([r for r in endpoint.requests if r[1] == "casemail-app"])
        wait_for(lambda: len([r for r in endpoint.requests if r[1] == "casemail-app"]) >= first + 2, "renewals")
        dovecot.append("clerk", [mail(10, MAILBOXES["clerk"][0])])
        wait_for(lambda: cases() == 4, "a case after renewal")
        with open(os.path.join(self.dir, "works.refresh")) as f:
            rotated = f.read().strip()
        self.assertNotEqual(rotated, "refresh-0")
        self.assertEqual(rotated, endpoint.refresh["casemail-public"][0])  # persisted as rotated
        self.assertEqual(os.stat(os.path.join(self.dir, "works.refresh")).st_mode & 0o777, 0o600)

        # The client secret is revoked: the endpoint's refusal, with its code and description.
        with open(os.path.join(self.dir, "clerk.secret"), "w") as f:
            f.write("revoked-secret-value\n")
        wait_for(lambda: "invalid_client" in (status("clerk")["last_error"] or ""), "the refusal in status")
        self.assertIn("AADSTS7000215", status("clerk")["last_error"])
        self.assertIn("event=failing reason=\"oauth2: token endpoint refused (HTTP 401): invalid_client", log())

        # The endpoint goes down: the token mailboxes fail at their next renewal; dwp goes on.
        endpoint.stop()
        wait_for(lambda: "token endpoint" in (status("works")["last_error"] or ""), "works failing")
        dovecot.append("dwp", [mail(11, MAILBOXES["dwp"][0])])
        wait_for(lambda: cases() == 5, "dwp still polled")
        for secret in ("app-secret-value", "revoked-secret-value", "smtp-secret-value", "refresh-0", rotated):
            self.assertNotIn(secret, log())
        self.assertNotIn("access-1", log())


class RunningDaemonTest(CasemaildTestCase):
    def start(self, env=None):
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.Popen([CASEMAILD, "--config", self.config], stderr=subprocess.PIPE, text=True,
                                cwd=self.dir, env=full_env)
        self.addCleanup(proc.stderr.close)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return False

    def test_notify_poll_reload_and_sigterm(self):
        sock_path = os.path.join(self.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(20)
        self.addCleanup(sock.close)
        self.write_config(users={"clerk": MAILBOXES["clerk"]})
        proc = self.start({"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000"})
        self.assertIn(b"READY=1", sock.recv(4096))
        self.assertEqual(sock.recv(4096), b"WATCHDOG=1")
        # mail arriving while the daemon runs is picked up by the next poll
        self.dovecot.append("clerk", [mail(1, MAILBOXES["clerk"][0])])
        self.assertTrue(self.wait_for(lambda: self.dovecot.count("clerk", "Processed") == 1))
        # SIGHUP: the new config adds the DWP mailbox
        self.write_config(users={"clerk": MAILBOXES["clerk"], "dwp": MAILBOXES["dwp"]})
        self.dovecot.append("dwp", [mail(2, MAILBOXES["dwp"][0])])
        proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.wait_for(lambda: self.dovecot.count("dwp", "Processed") == 1))
        started = time.time()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        self.assertLess(time.time() - started, 5)
        self.assertEqual(proc.returncode, 0)
        log = proc.stderr.read()
        self.assertIn("event=reloaded mailboxes=2", log)
        self.assertIn("event=stopped", log)
        self.assertEqual(len(self.ok_json("case", "list")), 2)

    def test_a_kept_session_sees_mail_that_arrives_after_it_processed_some(self):
        # STATUS of the selected folder is the session's stale view: new mail after a processed
        # one stayed unseen until a reconnect (found by the OAuth2 test), now a NOOP comes first.
        self.write_config(users={"dwp": MAILBOXES["dwp"]})
        proc = self.start()
        for n in range(1, 4):
            self.dovecot.append("dwp", [mail(n, MAILBOXES["dwp"][0])])
            self.assertTrue(self.wait_for(lambda: self.dovecot.count("dwp", "Processed") == n, timeout=15), n)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        self.assertEqual(len(self.ok_json("case", "list")), 3)

    def test_bad_reload_keeps_running(self):
        self.write_config(users={"works": MAILBOXES["works"]})
        proc = self.start()
        self.assertTrue(self.wait_for(lambda: self.run_cli("status", "--json").code == 0 and
                                      self.run_cli("status", "--json").json()["mailboxes"] != []))
        with open(self.config, "a") as f:
            f.write("[bogus]\n")
        proc.send_signal(signal.SIGHUP)
        self.dovecot.append("works", [mail(9, MAILBOXES["works"][0])])
        self.assertTrue(self.wait_for(lambda: self.dovecot.count("works", "Processed") == 1))
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        log = proc.stderr.read()
        self.assertIn("event=reload-failed", log)
        self.assertIn("'bogus': unknown key", log)


class BackupTest(CasemaildTestCase):
    """`casemail backup` while casemaild drains a mailbox; the copy restored in the store's
    place passes `casemail check --all`; the server's mail moved back to INBOX (the mail server
    restored too) is polled again without a duplicate case."""

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def test_backup_during_a_drain_restores_and_repolls_without_duplicates(self):
        total = 1500
        self.write_config(users={"works": MAILBOXES["works"]}, batch=20)
        self.ok("init")
        self.dovecot.deliver("works", [mail(i, MAILBOXES["works"][0]) for i in range(total)])
        proc = LoggedDaemon(self, self.config).proc
        self.assertTrue(self.wait_for(lambda: self.sql("SELECT count(*) FROM \"case\"")[0][0] > 0, timeout=60))
        snap = os.path.join(self.dir, "snapshot.db")
        backed = self.ok("backup", snap)
        running_during_backup = proc.poll() is None
        self.assertRegex(backed.out, r"backup .*snapshot.db written: \d+ pages")
        self.fails(2, "backup", snap)  # never overwritten without --force
        self.assertTrue(self.wait_for(lambda: self.dovecot.count("works") == 0, timeout=120))
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        self.assertTrue(running_during_backup)
        self.assertFalse(os.path.exists(snap + ".partial"))

        # Restore: the snapshot in the store's place.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.remove(self.db + suffix)
        shutil.copy(snap, self.db)
        in_snapshot = self.sql("SELECT count(*) FROM \"case\"")[0][0]
        checked = self.ok("check", "--all", "--json").json()
        self.assertTrue(checked["ok"], checked["problems"])
        self.assertEqual(checked["messages_checked"], in_snapshot)
        print(f"\n  backup taken with {in_snapshot} of {total} messages stored", file=sys.stderr)

        # The mail server restored too: everything back in INBOX, polled again.
        m = self.dovecot.connect("works")
        try:
            m.select("Processed")
            typ, data = m.uid("MOVE", "1:*", "INBOX")
            self.assertEqual(typ, "OK", data)
        finally:
            m.logout()
        self.assertEqual(self.dovecot.count("works"), total)
        log = self.once()
        actions = self.actions(log)
        self.assertEqual(actions.count("duplicate"), in_snapshot)
        self.assertEqual(actions.count("created"), total - in_snapshot)
        self.assertEqual(self.sql("SELECT count(*) FROM \"case\"")[0][0], total)
        self.assertEqual(self.sql("SELECT count(*) FROM (SELECT message_id FROM email GROUP BY message_id "
                                  "HAVING count(*) > 1)")[0][0], 0)
        self.ok("check", "--all")

        # A damaged raw message is found.
        con = sqlite3.connect(self.db)
        con.execute("UPDATE email_raw SET raw = CAST('tampered' AS BLOB) WHERE email_id = 7")
        con.commit()
        con.close()
        bad = self.run_cli("check", "--all")
        self.assertEqual(bad.code, 1)
        self.assertIn("problem: email 7: its raw message no longer matches the SHA-256", bad.out)


class AlarmTest(CasemaildTestCase):
    """A mailbox whose password is wrong: casemaild raises an alarm (logged once, mailed to
    [alerts] to through the outbox to a real SMTP server), it turns critical, `status --check`
    exits with the Nagios codes, and everything clears once the password is right again."""

    def test_failing_mailbox_raises_escalates_and_clears(self):
        sink_port = free_port()
        sink_dir = os.path.join(self.dir, "sink")
        os.makedirs(sink_dir)
        for user in ("works", "dwp"):
            with open(os.path.join(self.dir, f"{user}.secret"), "w") as f:
                f.write(("wrong-" if user == "dwp" else "") + self.passwords[user] + "\n")
        text = (f'[store]\npath = "casemail.db"\n[relay]\nenabled = false\n[daemon]\nmax_backoff = "1s"\n'
                f'[upstream]\nurl = "smtp://127.0.0.1:{sink_port}"\nallow_plaintext = true\npoll_interval = "1s"\n'
                f'[alerts]\nto = ["it@city.example"]\ncheck_interval = "1s"\nfailing_critical_after = "4s"\n')
        for user in ("works", "dwp"):
            address, queue = MAILBOXES[user]
            text += (f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{self.dovecot.url}"\n'
                     f'user = "{user}"\npassword_file = "{user}.secret"\nallow_plaintext = true\npoll_interval = "1s"\n')
        with open(self.config, "w") as f:
            f.write(text)
        self.ok("init")
        sink = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                                  "support", "smtp_sink.py"), str(sink_port), sink_dir])
        self.addCleanup(lambda: sink.poll() is None and sink.kill())
        daemon = LoggedDaemon(self, self.config)
        log, wait_for = daemon.log, daemon.wait_for

        def mails():
            out = []
            for path in sorted(os.listdir(sink_dir)):
                if path.endswith(".json"):
                    with open(os.path.join(sink_dir, path)) as f:
                        m = json.load(f)
                    subject = re.search(r"^Subject: (.*)$", m["data"], re.M).group(1)
                    out.append((m["rcpt_tos"], subject))
            return out

        cli = lambda *a: self.run_cli("--config", self.config, *a)
        raised = "event=alarm-raised alarm=mailbox-failing:311dwp@city.example"
        wait_for(lambda: f"{raised} severity=WARNING" in log(), "the warning")
        check = cli("status", "--check")
        if check.code == 1:  # it may have turned critical already on a slow machine
            self.assertTrue(check.out.startswith("CASEMAIL WARNING - 311DWP@city.example failing for"), check.out)
        wait_for(lambda: f"{raised} severity=CRITICAL" in log(), "the escalation")
        check = cli("status", "--check")
        self.assertEqual(check.code, 2, check.out)
        self.assertTrue(check.out.startswith("CASEMAIL CRITICAL - "), check.out)
        status = cli("status", "--json").json()
        self.assertEqual(status["status"], "CRITICAL")
        dwp = next(m for m in status["mailboxes"] if m["mailbox"] == "311DWP@city.example")
        self.assertIsNotNone(dwp["failing_since"])
        self.assertGreaterEqual(dwp["consecutive_failures"], 1, dwp)  # Dovecot delays repeated bad logins
        wait_for(lambda: len(mails()) >= 2, "the alarm mail")
        self.assertEqual(mails()[0][0], ["it@city.example"])
        self.assertTrue(mails()[0][1].startswith("[casemail] WARNING: 311DWP@city.example failing"), mails())
        self.assertTrue(mails()[1][1].startswith("[casemail] CRITICAL: 311DWP@city.example failing"), mails())

        with open(os.path.join(self.dir, "dwp.secret"), "w") as f:  # read at every connection
            f.write(self.passwords["dwp"] + "\n")
        wait_for(lambda: "event=alarm-cleared alarm=mailbox-failing:311dwp@city.example" in log(), "the all-clear")
        wait_for(lambda: any(s.startswith("[casemail] cleared: mailbox-failing") for _, s in mails()), "the clear mail")
        self.assertEqual(cli("status", "--check").code, 0)
        time.sleep(2)  # more checks: nothing logged or mailed again
        self.assertEqual(log().count(raised), 2, log())
        self.assertEqual(log().count("event=alarm-cleared"), 1)
        self.assertEqual(len(mails()), 3)
        self.assertNotIn("wrong-dwp-pw", log())


PARSE_METRICS = """
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([family.name, family.type, s.name, s.labels, s.value])
print(json.dumps(out))
"""


class MetricsTest(CasemaildTestCase):
    """GET /metrics of a running casemaild, parsed by the Prometheus client library's own parser
    (Debian's python3-prometheus-client), after real mail and a relayed reply; and the endpoint
    refusing everything else."""

    def scrape(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while chunk := c.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head)
        self.assertIn(b"Content-Type: text/plain; version=0.0.4", head)
        parsed = subprocess.run(["/usr/bin/python3", "-c", PARSE_METRICS], input=body.decode(), capture_output=True,
                                text=True, check=True)
        return json.loads(parsed.stdout)

    def raw(self, port, request, read=True):
        with socket.create_connection(("127.0.0.1", port), timeout=15) as c:
            c.sendall(request)
            return c.recv(65536) if read else None

    def test_scraped_and_parsed_after_real_traffic_and_nothing_else_answered(self):
        metrics_port, relay_port = free_port(), free_port()
        address, queue = MAILBOXES["works"]
        with open(os.path.join(self.dir, "works.secret"), "w") as f:
            f.write(self.passwords["works"] + "\n")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[relay]\nlisten = "127.0.0.1:{relay_port}"\n'
                    f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n[alerts]\ncheck_interval = "1s"\n'
                    f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{self.dovecot.url}"\n'
                    f'user = "works"\npassword_file = "works.secret"\nallow_plaintext = true\npoll_interval = "1s"\n')
        self.ok("init")
        self.dovecot.append("works", [mail(i, address) for i in range(5)])
        LoggedDaemon(self, self.config)
        deadline = time.time() + 30
        while time.time() < deadline and len(self.ok_json("case", "list")) < 5:
            time.sleep(0.1)
        token = self.ok_json("case", "list")[0]["token"]
        with smtplib.SMTP("127.0.0.1", relay_port, timeout=10) as smtp:
            smtp.sendmail("asmith@city.example", ["citizen0@example.org"],
                          f"From: asmith@city.example\r\nTo: citizen0@example.org\r\nSubject: RE: [{token}]\r\n\r\nOn it.\r\n")
            with self.assertRaises(smtplib.SMTPDataError):
                smtp.sendmail("asmith@city.example", ["x@example.org"], "Subject: no case\r\n\r\nHello.\r\n")
        time.sleep(2.5)  # an alarm check publishes the gauges

        samples = self.scrape(metrics_port)
        def value(name, **labels):
            found = [s[4] for s in samples if s[2] == name and all(s[3].get(k) == v for k, v in labels.items())]
            return found[0] if found else None
        self.assertEqual(value("casemail_messages_total", mailbox=address, action="created"), 5)
        self.assertEqual(value("casemail_relay_messages_total", action="queued", code="250"), 1)
        self.assertEqual(value("casemail_relay_messages_total", action="rejected", code="550"), 1)
        self.assertEqual(value("casemail_fetch_seconds_count", mailbox=address), 5)
        self.assertEqual(value("casemail_parse_seconds_count", mailbox=address), 5)
        self.assertGreaterEqual(value("casemail_commit_seconds_count", mailbox=address), 1)
        self.assertEqual(value("casemail_fetch_seconds_bucket", mailbox=address, le="+Inf"), 5)
        self.assertEqual(value("casemail_relay_seconds_count"), 2)
        self.assertGreater(value("casemail_store_bytes"), 0)
        self.assertEqual(value("casemail_quarantined"), 0)
        self.assertEqual(value("casemail_mailbox_failing", mailbox=address), 0)
        self.assertIsNotNone(value("casemail_outbox_entries", state="pending"))
        types = {s[0]: s[1] for s in samples}
        self.assertEqual(types["casemail_messages"], "counter")  # the parser drops _total from the family
        self.assertEqual(types["casemail_commit_seconds"], "histogram")

        # Nothing but GET /metrics.
        self.assertTrue(self.raw(metrics_port, b"POST /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405"))
        self.assertTrue(self.raw(metrics_port, b"GET /admin HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404"))
        self.assertTrue(self.raw(metrics_port, b"HELO casemail\r\n\r\n").startswith(b"HTTP/1.1 400"))
        big = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10000 + b"\r\n\r\n"
        self.assertTrue(self.raw(metrics_port, big).startswith(b"HTTP/1.1 431"))
        started = time.time()
        self.assertTrue(self.raw(metrics_port, b"GET /metr").startswith(b"HTTP/1.1 408"))  # and then nothing
        self.assertLess(time.time() - started, 8)
        # Idle connections beyond the limit are closed at once; the endpoint still answers after.
        idle = [socket.create_connection(("127.0.0.1", metrics_port)) for _ in range(20)]
        time.sleep(0.5)
        closed = 0
        for c in idle:
            c.settimeout(0.2)
            try:
                closed += c.recv(1) == b""
            except socket.timeout:
                pass
        self.assertGreaterEqual(closed, 4)
        for c in idle:
            c.close()
        time.sleep(0.5)
        again = self.scrape(metrics_port)
        self.assertTrue(any(s[2] == "casemail_messages_total" and s[4] == 5 for s in again))
        with open(os.path.join(self.dir, "casemaild.log")) as f:
            self.assertIn("event=metrics-listening", f.read())


class CrashTest(CasemaildTestCase):
    def test_sigkill_at_random_points_loses_and_duplicates_nothing(self):
        total = 500
        self.write_config(users={"works": MAILBOXES["works"]})
        # a tenth without Message-ID: deduplicated by content
        self.dovecot.deliver("works", [mail(i, MAILBOXES["works"][0], msg_id=(i % 10 != 0)) for i in range(total)])
        rng = random.Random(311)
        kills = mid_drain = 0
        window = 0.15  # seconds before the kill, at most; grows on slow machines (or sanitizer builds)
        for attempt in range(100):
            proc = subprocess.Popen([CASEMAILD, "--config", self.config, "--once"], stderr=subprocess.DEVNULL,
                                    cwd=self.dir)
            try:
                # After 30 kills, let it finish: the test must end on any machine.
                proc.wait(timeout=rng.uniform(0.03, window) if kills < 30 else 600)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                kills += 1
                stored = self.sql("SELECT count(*) FROM email")[0][0] if os.path.exists(self.db) else 0
                mid_drain += 0 < stored < total
                window *= 1.2
                continue
            if proc.returncode == 0 and self.dovecot.count("works", "INBOX") == 0:
                break
        self.assertGreater(mid_drain, 1, "the daemon was never killed mid-drain; the test proved nothing")
        self.assertEqual(self.dovecot.count("works", "INBOX"), 0)
        self.assertEqual(self.dovecot.count("works", "Processed"), total)
        self.assertEqual(self.sql("SELECT count(*) FROM email WHERE direction = 'in'")[0][0], total)
        self.assertEqual(self.sql("SELECT count(DISTINCT raw_sha256) FROM email")[0][0], total)
        self.assertEqual(self.sql('SELECT count(*) FROM "case"')[0][0], total)
        self.assertEqual(self.sql("SELECT count(*) FROM imap_pending_ack")[0][0], 0)
        print(f"\n  crash test: {kills} SIGKILLs ({mid_drain} mid-drain) before all {total} messages were in",
              file=sys.stderr)


class MixedCrashTest(CasemaildTestCase):
    """SIGKILL while the store's writer commits groups that hold IMAP messages and relay
    replies together: whatever the server was told (a message moved to Processed) and whatever
    an agent was told (a 250) must be in the store; nothing else may have been acknowledged."""

    def write_mixed_config(self, relay_port, upstream_port):
        address, queue = MAILBOXES["works"]
        with open(os.path.join(self.dir, "works.secret"), "w") as f:
            f.write(self.passwords["works"] + "\n")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[daemon]\nfetch_batch = 20\n'
                    f'[tracking]\nmessage_id_domain = "casemail.city.example"\n'
                    f'[relay]\nlisten = "127.0.0.1:{relay_port}"\n'
                    f'[upstream]\nurl = "smtp://127.0.0.1:{upstream_port}"\nallow_plaintext = true\n'
                    f'retry_base = "1s"\nretry_max = "1s"\npoll_interval = "1s"\n'
                    f'[[mailbox]]\naddress = "{address}"\nqueue = "{queue}"\nurl = "{self.dovecot.url}"\n'
                    f'user = "works"\npassword_file = "works.secret"\nallow_plaintext = true\n'
                    f'after_processing = "move:Processed"\npoll_interval = "1s"\n')

    def processed_message_ids(self):
        m = self.dovecot.connect("works")
        try:
            if m.select("Processed", readonly=True)[0] != "OK":
                return set()
            typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            ids = set()
            for part in data:
                if isinstance(part, tuple):
                    ids.update(re.findall(r"<([^>]+)>", part[1].decode()))
            return ids
        finally:
            m.logout()

    def send_replies(self, port, token, counter, accepted, stop):
        """One agent's connection: replies until the daemon dies; `accepted` gets each 250'd one."""
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                while not stop.is_set():
                    n = next(counter)
                    msg = (f"From: asmith@city.example\r\nTo: family@example.net\r\n"
                           f"Subject: RE: [{token}] reply {n}\r\nMessage-ID: <agent-{n}@city.example>\r\n\r\n"
                           f"Reply number {n}.\r\n")
                    smtp.sendmail("asmith@city.example", ["family@example.net"], msg)
                    accepted.append(n)
        except (OSError, smtplib.SMTPException):
            pass  # killed mid-reply: that one was not acknowledged

    def test_sigkill_during_mixed_groups_acknowledges_only_what_is_stored(self):
        total = 3000
        relay_port, upstream_port = free_port(), free_port()
        self.write_mixed_config(relay_port, upstream_port)
        self.ok("init")
        self.ok("queue", "add", "--name", MAILBOXES["works"][1], "--mailbox", MAILBOXES["works"][0])
        self.ok("contact", "add", "--email", "family@example.net", "--name", "Raj Patel", "--registered")
        citizen = os.path.join(self.dir, "citizen.eml")
        with open(citizen, "wb") as f:
            f.write(mail(99999, MAILBOXES["works"][0], sender="family@example.net", subject="Noise from the depot"))
        token = json.loads(self.ok("ingest", "--mailbox", MAILBOXES["works"][0], "--json", citizen).out)["case"]
        self.dovecot.deliver("works", [mail(i, MAILBOXES["works"][0]) for i in range(total)])
        counter = itertools.count()
        accepted = []
        rng = random.Random(2026)
        mixed_kills = 0
        for round_no in range(10):
            proc = subprocess.Popen([CASEMAILD, "--config", self.config], stderr=subprocess.DEVNULL, cwd=self.dir)
            self.addCleanup(lambda p=proc: p.poll() is None and p.kill())
            deadline = time.time() + 20
            while time.time() < deadline and proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", relay_port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            stop = threading.Event()
            agents = [threading.Thread(target=self.send_replies, args=(relay_port, token, counter, accepted, stop))
                      for _ in range(4)]
            for a in agents:
                a.start()
            time.sleep(rng.uniform(0.15, 0.45))
            before = self.sql("SELECT direction, count(*) FROM email GROUP BY direction")
            time.sleep(0.1)
            proc.kill()
            proc.wait()
            stop.set()
            for a in agents:
                a.join(15)
            after = self.sql("SELECT direction, count(*) FROM email GROUP BY direction")
            grew = {d for d, n in after if n > dict(before).get(d, 0)}
            mixed_kills += grew == {"in", "out"}  # both kinds were committing in the last 100 ms

            # Everything acknowledged is stored.
            stored_out = {int(re.search(r"reply (\d+)", s).group(1))
                          for (s,) in self.sql("SELECT subject FROM email WHERE direction = 'out' AND subject LIKE '%reply %'")}
            missing_replies = set(accepted) - stored_out
            self.assertEqual(missing_replies, set(), f"round {round_no}: 250 sent for replies not in the store")
            stored_in = {m for (m,) in self.sql("SELECT message_id FROM email WHERE direction = 'in'")}
            missing_mail = self.processed_message_ids() - stored_in
            self.assertEqual(missing_mail, set(), f"round {round_no}: moved to Processed but not in the store")
            if self.dovecot.count("works", "INBOX") == 0:
                break
        self.assertGreater(mixed_kills, 0, "never killed while IMAP and relay items were both committing")
        self.assertGreater(len(accepted), 50)
        # A last clean run takes what is left; still one case per message.
        self.once()  # ends although the upstream is down: each outbox entry is tried once
        self.assertEqual(self.dovecot.count("works", "INBOX"), 0)
        self.assertEqual(self.sql("SELECT count(*) FROM email WHERE direction = 'in'")[0][0], total + 1)
        self.assertEqual(self.sql('SELECT count(*) FROM "case"')[0][0], total + 1)
        print(f"\n  mixed crash test: {round_no + 1} SIGKILLs ({mixed_kills} with both kinds committing), "
              f"{len(accepted)} replies acknowledged, all stored", file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
