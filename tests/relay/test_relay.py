"""The relay end to end: swaks (a real SMTP client) submits agents' replies to a running
casemaild; a real SMTP server (aiosmtpd, Debian's python3) stands in for the upstream
smarthost and records every envelope."""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402

CASEMAILD = os.environ.get("CASEMAILD_BIN", "casemaild")
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "smtp_sink.py")
PW = "311PublicWorks@city.example"
# openssl passwd -6 -salt casemailsalt agent-secret
AGENT_HASH = "$6$casemailsalt$8PjsesZIoku/BxTo/w4YKtVYHCvqg2cgdK7uQWxUOhAyR.wlIA20Y.z6T6zcRydJ6o0utUyID/j8Frv4olL3Y0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RelayTestCase(CasemailTestCase):
    relay_extra = ""

    def setUp(self):
        super().setUp()
        self.relay_port = free_port()
        self.sink_port = free_port()
        self.sink_dir = os.path.join(self.dir, "sink")
        os.makedirs(self.sink_dir)
        self.sink = None
        self.daemon = None
        self.addCleanup(self.stop_all)
        self.config = os.path.join(self.dir, "casemail.toml")
        self.write_config()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", PW, "--display-name", "Public Works 311")
        self.raj = self.ok_json("contact", "add", "--email", "family@example.net", "--name", "Raj Patel", "--registered")["id"]
        self.priya = self.ok_json("contact", "add", "--email", "family@example.net", "--name", "Priya Patel",
                                  "--registered")["id"]

    def write_config(self, relay_extra=None, upstream_extra="allow_plaintext = true\n"):
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[tracking]\nmessage_id_domain = "casemail.city.example"\n'
                    f'[relay]\nlisten = "127.0.0.1:{self.relay_port}"\n{relay_extra or self.relay_extra}\n'
                    f'[upstream]\nurl = "smtp://127.0.0.1:{self.sink_port}"\n{upstream_extra}'
                    f'retry_base = "1s"\nretry_max = "1s"\npoll_interval = "1s"\n')

    def run_cli(self, *args, **kw):
        return super().run_cli("--config", self.config, *args, db=False, **kw)

    def start_sink(self, *options):
        ready = os.path.join(self.sink_dir, "ready")
        if os.path.exists(ready):
            os.remove(ready)
        with open(os.path.join(self.dir, "sink.log"), "a") as log:
            self.sink = subprocess.Popen(["/usr/bin/python3", SINK, str(self.sink_port), self.sink_dir, *options],
                                         stderr=log)
        self.wait_for(lambda: os.path.exists(ready), what="the SMTP sink to start")

    def start_daemon(self):
        if self.daemon:
            self.daemon_log.close()
        self.daemon_log = open(os.path.join(self.dir, "casemaild.log"), "a")
        self.daemon = subprocess.Popen([CASEMAILD, "--config", self.config], stderr=self.daemon_log, cwd=self.dir)
        self.wait_for(lambda: "event=relay-listening" in self.log(), what="the relay to listen")

    def stop_all(self):
        for p in (self.daemon, self.sink):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if self.daemon:
            self.daemon_log.close()

    def log(self):
        with open(os.path.join(self.dir, "casemaild.log")) as f:
            return f.read()

    def wait_for(self, predicate, timeout=20, what="a condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; casemaild log:\n" +
                  (self.log()[-3000:] if os.path.exists(os.path.join(self.dir, "casemaild.log")) else "(none)"))

    def swaks(self, *args, subject="RE: noise", body="We will send an inspector.", to="family@example.net",
              headers=()):
        cmd = [SWAKS, "--server", f"127.0.0.1:{self.relay_port}", "--from", "asmith@city.example", "--to", to,
               "--header", f"Subject: {subject}", "--body", body, "--timeout", "20", *args]
        for h in headers:
            cmd += ["--add-header", h]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def delivered(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.sink_dir, "*.json"))):
            with open(path) as f:
                out.append(json.load(f))
        return out

    def citizen_case(self, msg_id="c1@example.net", subject="Noise from the depot"):
        raw = (f"From: Raj Patel <family@example.net>\r\nTo: {PW}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{msg_id}>\r\n\r\nThe depot is loud at night.\r\n")
        path = os.path.join(self.dir, msg_id + ".eml")
        with open(path, "w") as f:
            f.write(raw)
        r = self.ok("ingest", "--mailbox", PW, "--json", path)
        return json.loads(r.out)

    def outbox(self):
        return self.ok_json("outbox", "list")


class ReplyTest(RelayTestCase):
    def test_reply_reaches_only_the_customer_and_threads_back(self):
        case = self.citizen_case()
        token, customer = case["case"], case["customer_id"]
        self.start_sink()
        self.start_daemon()
        # the acknowledgement queued by ingest goes out first
        self.wait_for(lambda: len(self.delivered()) == 1, what="the acknowledgement")
        ack = self.delivered()[0]
        self.assertEqual(ack["rcpt_tos"], ["family@example.net"])
        self.assertIn("Auto-Submitted: auto-replied", ack["data"])

        r = self.swaks("--to", "family@example.net,neighbour@example.org,supervisor@city.example",
                       subject=f"RE: Noise from the depot [{token}]",
                       headers=["To: Raj Patel <family@example.net>, Priya Patel <family@example.net>",
                                "Cc: neighbour@example.org", "Bcc: supervisor@city.example"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"250 2.0.0 queued as", r.stdout)
        self.wait_for(lambda: len(self.delivered()) == 2, what="the reply")
        reply = self.delivered()[1]
        self.assertEqual(reply["mail_from"], PW)
        self.assertEqual(reply["rcpt_tos"], ["family@example.net"])  # envelope: the customer only
        msg = email.message_from_string(reply["data"], policy=email.policy.default)
        self.assertEqual(msg["To"], "Raj Patel <family@example.net>")
        self.assertIsNone(msg["Cc"])
        self.assertIsNone(msg["Bcc"])
        self.assertEqual(msg["From"], "Public Works 311 <311PublicWorks@city.example>")
        self.assertEqual(msg["Reply-To"], msg["From"])
        self.assertEqual(msg["Subject"].count(token), 1)
        self.assertEqual(msg["X-311-Case"], token)
        self.assertEqual(msg["In-Reply-To"], "<c1@example.net>")
        self.assertTrue(msg["Message-ID"].endswith("@casemail.city.example>"))
        for leak in ("neighbour@example.org", "supervisor@city.example", "asmith@city.example"):
            self.assertNotIn(leak, reply["data"])
        self.assertIn("dropped=neighbour@example.org,supervisor@city.example", self.log())

        show = self.ok_json("case", "show", token)
        self.assertIsNotNone(show["acknowledged_at"])
        out = [e for e in show["emails"] if e["direction"] == "out"]
        self.assertEqual(len(out), 2)
        self.assertTrue(all(e["status"] == "sent" for e in out))
        self.assertEqual(out[1]["linked_contact_ids"], [customer])

        # the citizen answers; In-Reply-To alone (no token) finds the case
        answer = (f"From: Raj Patel <family@example.net>\r\nTo: {PW}\r\nSubject: thanks\r\n"
                  f"Message-ID: <c2@example.net>\r\nIn-Reply-To: {msg['Message-ID']}\r\n\r\nThank you.\r\n")
        path = os.path.join(self.dir, "answer.eml")
        with open(path, "w") as f:
            f.write(answer)
        result = json.loads(self.ok("ingest", "--mailbox", PW, "--json", path).out)
        self.assertEqual((result["action"], result["case"], result["customer_id"]), ("linked", token, customer))

    def test_resolving_with_a_reply_still_in_the_outbox_needs_force(self):
        token = self.citizen_case()["case"]
        self.start_daemon()  # no upstream running: the reply waits in the outbox
        r = self.swaks(subject=f"RE: [{token}] done")
        self.assertEqual(r.returncode, 0, r.stdout)
        entry = next(e for e in self.outbox() if e["kind"] == "reply")
        err = self.fails(2, "case", "resolve", token, "--resolution", "fixed").err
        self.assertIn(f"mail waiting in the outbox (outbox {entry['id']} reply pending)", err)
        self.assertEqual(self.ok_json("case", "show", token)["status"], "active")
        self.ok("case", "resolve", token, "--resolution", "fixed", "--force")
        self.assertEqual(self.ok_json("case", "show", token)["status"], "resolved")

    def test_mail_without_a_case_is_refused(self):
        self.start_sink()
        self.start_daemon()
        r = self.swaks(subject="Hello there")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("550 5.7.1 no case found", r.stdout)
        r = self.swaks(subject="RE: [311-000999-ZZZZ] spoofed token")
        self.assertIn("550 5.7.1", r.stdout)
        self.assertEqual(self.outbox(), [])

    def test_rewrite_cli_and_template_preview(self):
        token = self.citizen_case()["case"]
        raw = (f"From: asmith@city.example\r\nTo: family@example.net\r\nCc: neighbour@example.org\r\n"
               f"Subject: RE: noise [{token}]\r\n\r\nHello\r\n")
        path = os.path.join(self.dir, "reply.eml")
        with open(path, "w") as f:
            f.write(raw)
        j = self.ok_json("outbound", "rewrite", path, "--rcpt", "family@example.net", "--rcpt", "boss@city.example")
        self.assertEqual(j["case"], token)
        self.assertEqual(j["envelope_from"], PW)
        self.assertEqual(j["envelope_to"], ["family@example.net"])
        self.assertEqual(j["dropped"], ["neighbour@example.org", "boss@city.example"])
        self.assertEqual(j["headers"]["To"], "Raj Patel <family@example.net>")
        self.assertIsNone(j["headers"]["Cc"])
        self.assertEqual(j["headers"]["X-311-Case"], token)
        self.assertEqual(j["headers"]["In-Reply-To"], "<c1@example.net>")
        self.assertEqual(self.outbox()[0]["kind"], "ack")  # nothing was queued by the preview
        self.assertEqual(len(self.outbox()), 1)
        t = self.ok_json("template", "render", "acknowledgement", "--case", token)
        self.assertIn(token, t["subject"])
        self.assertTrue(t["text"].startswith("Dear Raj Patel"))
        self.fails(2, "template", "render", "nope", "--case", token)


class DeliveryTest(RelayTestCase):
    def test_sink_down_then_back(self):
        token = self.citizen_case()["case"]
        self.start_daemon()  # no upstream yet
        r = self.swaks(subject=f"RE: [{token}]")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.wait_for(lambda: all(e["attempts"] >= 2 for e in self.outbox()), what="retries")
        entries = self.outbox()
        self.assertTrue(all(e["status"] == "pending" and e["last_error"] for e in entries), entries)
        self.assertIn("action=deferred", self.log())
        self.start_sink()
        self.wait_for(lambda: all(e["status"] == "delivered" for e in self.outbox()), what="delivery")
        self.assertEqual(len(self.delivered()), 2)  # the acknowledgement and the reply, once each

    def test_sink_550_marks_failed(self):
        token = self.citizen_case()["case"]
        with open(os.path.join(self.sink_dir, "reject"), "w") as f:
            f.write("550 5.1.1 mailbox unavailable")
        self.start_sink()
        self.start_daemon()
        self.swaks(subject=f"RE: [{token}]")
        self.wait_for(lambda: len(self.outbox()) == 2 and all(e["status"] == "failed" for e in self.outbox()),
                      what="the entries to fail")
        for e in self.outbox():
            self.assertEqual(e["attempts"], 1)
            self.assertIn("550", e["last_error"])
        self.assertEqual(self.delivered(), [])
        # after the mailbox is fixed, an admin queues it again
        os.remove(os.path.join(self.sink_dir, "reject"))
        self.ok("outbox", "retry", str(self.outbox()[1]["id"]))
        self.wait_for(lambda: self.outbox()[1]["status"] == "delivered", what="the retried reply")
        self.fails(2, "outbox", "retry", str(self.outbox()[1]["id"]))

    def test_upstream_starttls_required_and_verified(self):
        cert, key = os.path.join(self.dir, "sink.crt"), os.path.join(self.dir, "sink.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        self.write_config(upstream_extra="")  # smtp:// = STARTTLS required, certificate verified
        self.citizen_case()
        self.start_sink("--tls", cert, key)
        self.start_daemon()
        self.wait_for(lambda: self.outbox()[0]["attempts"] >= 1, what="a delivery attempt")
        self.assertIn("SSL certificate problem", self.outbox()[0]["last_error"])
        self.assertEqual(self.delivered(), [])
        self.daemon.kill()
        self.daemon.wait()
        self.write_config(upstream_extra=f'ca_file = "{cert}"\n')
        self.start_daemon()
        self.wait_for(lambda: self.outbox()[0]["status"] == "delivered", what="delivery over STARTTLS")
        self.assertEqual(len(self.delivered()), 1)

    def test_upstream_xoauth2_and_a_refused_login_is_retried(self):
        token_file = os.path.join(self.dir, "upstream.token")
        with open(token_file, "w") as f:
            f.write("stale-token\n")
        self.write_config(upstream_extra='allow_plaintext = true\nuser = "311-relay@city.example"\n'
                                         'oauth2_token_file = "upstream.token"\n')
        self.citizen_case()
        self.start_sink("--xoauth2", "good-token")
        self.start_daemon()
        self.wait_for(lambda: self.outbox()[0]["attempts"] >= 1, what="a delivery attempt")
        entry = self.outbox()[0]
        self.assertEqual(entry["status"], "pending")  # a refused login is the config's fault, not the message's
        self.assertIn("Login denied", entry["last_error"])
        self.assertNotIn("stale-token", self.log())
        with open(token_file, "w") as f:  # the token service refreshed it: no restart needed
            f.write("good-token\n")
        self.wait_for(lambda: self.outbox()[0]["status"] == "delivered", what="delivery after the token refresh")
        self.assertEqual(self.delivered()[0]["auth"], "311-relay@city.example")
        with open(os.path.join(self.sink_dir, "auth.log")) as f:
            self.assertIn("311-relay@city.example ok", f.read())

    def test_killed_between_250_and_delivery_delivers_once_after_restart(self):
        token = self.citizen_case()["case"]
        self.start_daemon()  # upstream down: the 250 comes from the durable outbox alone
        r = self.swaks(subject=f"RE: [{token}]")
        self.assertIn("250 2.0.0 queued as", r.stdout)
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()
        self.assertTrue(all(e["status"] == "pending" for e in self.outbox()))
        self.start_sink()
        self.start_daemon()
        self.wait_for(lambda: all(e["status"] == "delivered" for e in self.outbox()), what="delivery after restart")
        time.sleep(1.5)  # another outbox run: nothing is sent twice
        sent = self.delivered()
        self.assertEqual(len(sent), 2)
        self.assertEqual(sum(1 for m in sent if "Auto-Submitted" not in m["data"]), 1)


class AccessTest(RelayTestCase):
    def setUp(self):
        super().setUp()
        users = os.path.join(self.dir, "relay-users")
        with open(users, "w") as f:
            f.write(f"# agents\nagent:{AGENT_HASH}\n")
        os.chmod(users, 0o600)

    def test_outside_allowed_networks_must_authenticate(self):
        self.write_config('allowed_networks = ["10.0.0.0/8"]\nusers_file = "relay-users"\nallow_plaintext_auth = true\n')
        token = self.citizen_case()["case"]
        self.start_sink()
        self.start_daemon()
        r = self.swaks(subject=f"RE: [{token}]")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("530 5.7.0 authentication required", r.stdout)
        r = self.swaks("--auth", "PLAIN", "--auth-user", "agent", "--auth-password", "wrong", subject=f"RE: [{token}]")
        self.assertIn("535 5.7.8", r.stdout)
        r = self.swaks("--auth", "LOGIN", "--auth-user", "agent", "--auth-password", "agent-secret",
                       subject=f"RE: [{token}]")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("user=agent", self.log())
        self.assertNotIn("agent-secret", self.log())

    def test_starttls_then_auth(self):
        cert, key = os.path.join(self.dir, "relay.crt"), os.path.join(self.dir, "relay.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.write_config(f'allowed_networks = ["10.0.0.0/8"]\nusers_file = "relay-users"\n'
                          f'tls_cert = "relay.crt"\ntls_key = "relay.key"\n')
        token = self.citizen_case()["case"]
        self.start_sink()
        self.start_daemon()
        r = self.swaks("--auth", "PLAIN", "--auth-user", "agent", "--auth-password", "agent-secret",
                       subject=f"RE: [{token}]")
        self.assertNotEqual(r.returncode, 0)  # AUTH is not offered before STARTTLS
        r = self.swaks("--tls", "--auth", "PLAIN", "--auth-user", "agent", "--auth-password", "agent-secret",
                       subject=f"RE: [{token}]")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TLS started", r.stdout)
        self.wait_for(lambda: len(self.delivered()) == 2, what="the reply")


class LimitsTest(RelayTestCase):
    relay_extra = 'max_message_bytes = 4096\nmax_recipients = 2\nmax_connections = 2\nidle_timeout = "1s"\n'

    def test_size_recipients_connections_idle(self):
        token = self.citizen_case()["case"]
        self.start_sink()
        self.start_daemon()
        r = self.swaks(subject=f"RE: [{token}]", body="\n".join(["x" * 70] * 80))
        self.assertIn("552 5.3.4 message too big", r.stdout)
        r = self.swaks("--to", "a@example.org,b@example.org,c@example.org", subject=f"RE: [{token}]")
        self.assertIn("452 4.5.3 too many recipients", r.stdout)

        def connect():
            s = socket.create_connection(("127.0.0.1", self.relay_port), timeout=10)
            return s, s.recv(200).decode()

        a, greeting_a = connect()
        b, greeting_b = connect()
        self.assertTrue(greeting_a.startswith("220 "))
        self.assertTrue(greeting_b.startswith("220 "))
        # Every slot is taken: the third waits in the listen queue for the first free one.
        started = time.time()
        c = socket.create_connection(("127.0.0.1", self.relay_port), timeout=10)
        self.assertTrue(a.recv(200).decode().startswith("421 4.4.2 timeout"))
        self.assertTrue(c.recv(200).decode().startswith("220 "))
        self.assertLess(time.time() - started, 5)
        for s in (a, b, c):
            s.close()
        a, _ = connect()
        a.sendall(b"EHLO x\r\n" + b"NOOP " + b"x" * 2000 + b"\r\n")
        replies = b""
        while b"500" not in replies:
            replies += a.recv(4096)
        self.assertIn(b"500 5.5.2 line too long", replies)
        a.close()


class SmugglingTest(RelayTestCase):
    """SMTP smuggling (SEC Consult, 2023): only CRLF . CRLF ends DATA; anything else is data,
    and a message with a bare CR or LF is refused whole."""
    VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n", b"\r\n\x00.\r\n"]

    def reply(self, sock, buf):
        """The next final reply line ("250 ...", not "250-..."), reading as needed."""
        while True:
            m = re.search(rb"^(\d{3}) [^\r\n]*\r\n", buf[0], re.M)
            if m:
                buf[0] = buf[0][m.end():]
                return m.group(0).decode()
            chunk = sock.recv(4096)
            self.assertTrue(chunk, "the relay closed the connection")
            buf[0] += chunk

    def send(self, sock, data, bytewise):
        if not bytewise:
            sock.sendall(data)
            return
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])

    def transaction(self, sock, buf, token, body_end, bytewise=False):
        sock.sendall(b"MAIL FROM:<asmith@city.example>\r\nRCPT TO:<family@example.net>\r\nDATA\r\n")
        for code in ("250", "250", "354"):
            self.assertTrue(self.reply(sock, buf).startswith(code))
        smuggled = (f"MAIL FROM:<asmith@city.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
                    f"Subject: RE: smuggled [{token}]\r\n\r\nsmuggled\r\n").encode()
        self.send(sock, f"Subject: RE: noise [{token}]\r\n\r\nhello".encode() + body_end + smuggled + b".\r\n",
                  bytewise)
        return self.reply(sock, buf)

    def test_smuggling_variants_are_refused_and_nothing_bare_reaches_the_upstream(self):
        token = self.citizen_case()["case"]
        self.start_sink()
        self.start_daemon()
        self.wait_for(lambda: len(self.delivered()) == 1, what="the acknowledgement")
        sock = socket.create_connection(("127.0.0.1", self.relay_port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = [b""]
        self.assertTrue(self.reply(sock, buf).startswith("220"))
        sock.sendall(b"EHLO agent\r\n")
        self.reply(sock, buf)
        for variant in self.VARIANTS:
            for bytewise in (False, True):
                with self.subTest(variant=variant, bytewise=bytewise):
                    self.assertTrue(self.transaction(sock, buf, token, variant, bytewise).startswith("554 5.6.0"))
        # The same connection still works, and a proper message goes through.
        self.assertTrue(self.transaction(sock, buf, token, b"\r\n").startswith("250 2.0.0 queued"))
        sock.sendall(b"QUIT\r\n")
        self.assertTrue(self.reply(sock, buf).startswith("221"))
        sock.close()
        self.wait_for(lambda: len(self.delivered()) == 2, what="the proper reply")
        time.sleep(1.5)  # another outbox run: nothing else was queued
        sent = self.delivered()
        self.assertEqual(len(sent), 2)
        self.assertEqual([e["kind"] for e in self.outbox()], ["ack", "reply"])
        reply = sent[1]
        self.assertEqual(reply["rcpt_tos"], ["family@example.net"])
        self.assertIn("RCPT TO:<victim@example.org>", reply["data"])  # without a false end, commands are body text
        for m in sent:
            self.assertEqual(m["rcpt_tos"], ["family@example.net"])
            self.assertIsNone(re.search(r"\r(?!\n)|(?<!\r)\n", m["data"]), m["data"])
        self.assertEqual(self.log().count("554 5.6.0"), 2 * len(self.VARIANTS))


def connect_from(source, port, timeout=10):
    """A TCP connection to the relay from another loopback address (127.0.0.2, ...)."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_reply(sock):
    """Reads until a final reply line ("250 ...") arrives; returns everything read."""
    data = b""
    while not re.search(rb"(^|\r\n)\d{3} [^\r\n]*\r\n$", data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


class AbuseTest(RelayTestCase):
    """Clients that hold slots, stall or guess passwords cannot lock the agents out."""

    def make_cert(self):
        cert, key = os.path.join(self.dir, "relay.crt"), os.path.join(self.dir, "relay.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", key, "-out", cert], check=True, capture_output=True)
        return 'tls_cert = "relay.crt"\ntls_key = "relay.key"\n'

    def honest_greeting_seconds(self, source="127.0.0.2"):
        started = time.time()
        s = connect_from(source, self.relay_port, timeout=30)
        greeting = read_reply(s)
        took = time.time() - started
        s.sendall(b"EHLO agent\r\nQUIT\r\n")
        self.assertIn("221", read_reply(s) + read_reply(s))
        s.close()
        self.assertTrue(greeting.startswith("220 "), greeting)
        print(f"\n  honest client from {source} greeted after {took:.2f} s", file=sys.stderr)
        return took

    def test_one_address_cannot_take_every_slot(self):
        self.write_config("max_connections = 10\nmax_connections_per_client = 4\n")
        self.start_daemon()
        silent, refused = [], 0
        for _ in range(10):
            s = connect_from("127.0.0.1", self.relay_port)
            greeting = read_reply(s)
            if greeting.startswith("421 4.7.0 too many connections from your address"):
                refused += 1
                s.close()
            else:
                self.assertTrue(greeting.startswith("220 "), greeting)
                silent.append(s)
        self.assertEqual((len(silent), refused), (4, 6))
        self.assertLess(self.honest_greeting_seconds(), 2)
        self.assertEqual(self.log().count("reason=\"too many connections from this address\""), 6)
        for s in silent:
            s.close()

    def test_silent_slow_and_stalled_tls_clients_from_many_addresses(self):
        self.write_config("max_connections = 9\nstress_timeout = \"3s\"\n" + self.make_cert())
        self.start_daemon()
        held = []
        for i in range(3):  # silent after the greeting
            s = connect_from(f"127.0.0.{10 + i}", self.relay_port)
            read_reply(s)
            held.append(s)
        for i in range(3):  # stall in the TLS handshake
            s = connect_from(f"127.0.0.{20 + i}", self.relay_port)
            read_reply(s)
            s.sendall(b"EHLO stall\r\n")
            read_reply(s)
            s.sendall(b"STARTTLS\r\n")
            self.assertTrue(read_reply(s).startswith("220"))
            s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, and no more
            held.append(s)
        slow = []
        for i in range(3):  # one byte every second, never a whole line
            s = connect_from(f"127.0.0.{30 + i}", self.relay_port)
            read_reply(s)
            slow.append(s)
        stop = time.time() + 15

        def trickle():
            while time.time() < stop:
                for s in slow:
                    try:
                        s.sendall(b"N")
                    except OSError:
                        pass
                time.sleep(1)
        import threading
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        took = self.honest_greeting_seconds("127.0.0.2")
        self.assertLess(took, 3 + 4)
        self.assertIn("relay=stress", self.log())
        self.wait_for(lambda: self.log().count("relay=timeout") >= 6 and "reason=timeout" in self.log(),
                      what="the silent and slow sessions and the stalled handshakes to be timed out")
        for s in slow:  # the trickling clients were told, then closed
            s.settimeout(5)
            self.assertIn("421 4.4.2 timeout", read_reply(s))
        for s in held + slow:
            s.close()

    def test_a_client_that_stops_reading_is_dropped(self):
        self.write_config('idle_timeout = "2s"\n')
        self.start_daemon()
        s = connect_from("127.0.0.3", self.relay_port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        read_reply(s)

        def flood():  # far more replies than any socket buffer holds, never read
            try:
                s.sendall(b"EHLO x\r\n" + b"NOOP\r\n" * 2000000)
            except OSError:
                pass
        import threading
        threading.Thread(target=flood, daemon=True).start()
        self.wait_for(lambda: "during=write" in self.log(), timeout=30, what="the write deadline")
        s.close()
        self.assertLess(self.honest_greeting_seconds(), 2)

    def test_failed_logins_make_an_address_wait(self):
        users = os.path.join(self.dir, "relay-users")
        with open(users, "w") as f:
            f.write(f"agent:{AGENT_HASH}\n")
        self.write_config('allowed_networks = ["10.0.0.0/8"]\nusers_file = "relay-users"\nallow_plaintext_auth = true\n'
                          'auth_backoff_after = 3\nauth_backoff = "1m"\n')
        token = self.citizen_case()["case"]
        self.start_sink()
        self.start_daemon()

        def login(password, source="127.0.0.1"):
            return self.swaks("--auth", "PLAIN", "--auth-user", "agent", "--auth-password", password,
                              "--local-interface", source, subject=f"RE: [{token}]")
        for _ in range(3):
            self.assertIn("535 5.7.8", login("wrong").stdout)
        r = login("agent-secret")  # the right password, but this address must wait
        self.assertIn("421 4.7.0 too many failed logins from your address", r.stdout)
        self.assertNotEqual(r.returncode, 0)
        r = login("agent-secret", source="127.0.0.2")  # another address is not affected
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(self.log().count("event=backoff"), 1)
        self.assertIn("client=127.0.0.1", self.log())

    def test_commands_pipelined_after_starttls_are_not_carried_into_tls(self):
        """RFC 3207 5 (the 2011 STARTTLS command-injection bugs): bytes sent in plaintext after
        STARTTLS must not be read as commands of the TLS session; the relay hangs up."""
        self.write_config(self.make_cert())
        self.start_daemon()
        s = connect_from("127.0.0.4", self.relay_port)
        read_reply(s)
        s.sendall(b"EHLO x\r\n")
        read_reply(s)
        s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
        self.assertTrue(read_reply(s).startswith("220"))
        s.settimeout(5)
        self.assertEqual(s.recv(100), b"")  # closed, no handshake, no 250 for the injected MAIL
        s.close()
        self.assertNotIn("injected@example.org", self.log())
