"""SLA clocks end to end on a short schedule: citizens' mail arrives through a real Dovecot, a
running casemaild raises warnings and breaches (audit events, log lines, mail to the queue's
alert_to through the outbox to a real aiosmtpd upstream), and an agent's reply through the
relay (swaks) stops the first-response clock in time. Holds and `case ack` through the CLI."""
import base64
import email
import glob
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from dovecot_harness import Dovecot, free_port  # noqa: E402

CASEMAILD = os.environ.get("CASEMAILD_BIN", "casemaild")
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "smtp_sink.py")
PW = "311PublicWorks@city.example"
SUPERVISOR = "pw-supervisor@city.example"


def citizen(n, subject):
    return (f"From: Citizen {n} <citizen{n}@example.org>\r\nTo: {PW}\r\nSubject: {subject}\r\n"
            f"Message-ID: <sla{n}@example.org>\r\n\r\nPlease help, request {n}.\r\n").encode()


class SlaTest(CasemailTestCase):
    # First response within 8 s of business time (all hours are business hours here), warning at
    # half of it; resolution within an hour. casemaild checks every second.
    def setUp(self):
        super().setUp()
        self.dovecot = Dovecot(self.dir, {"works": "works-pw"}).start()
        self.addCleanup(self.dovecot.stop)
        self.relay_port, self.sink_port = free_port(), free_port()
        self.sink_dir = os.path.join(self.dir, "sink")
        os.makedirs(self.sink_dir)
        with open(os.path.join(self.dir, "works.secret"), "w") as f:
            f.write("works-pw\n")
        self.config = os.path.join(self.dir, "casemail.toml")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "casemail.db"\n[tracking]\nmessage_id_domain = "casemail.city.example"\n'
                    f'[business_hours]\nhours = "always"\ntimezone = "America/Los_Angeles"\n'
                    f'[[sla]]\nname = "test schedule"\nfirst_response = "8s"\nresolve_within = "1h"\nwarn_at = 50\n'
                    f'[daemon]\nsla_check_interval = "1s"\n'
                    f'[relay]\nlisten = "127.0.0.1:{self.relay_port}"\n'
                    f'[upstream]\nurl = "smtp://127.0.0.1:{self.sink_port}"\nallow_plaintext = true\n'
                    f'retry_base = "1s"\nretry_max = "1s"\npoll_interval = "1s"\n'
                    f'[[mailbox]]\naddress = "{PW}"\nqueue = "Public Works"\nurl = "{self.dovecot.url}"\n'
                    f'user = "works"\npassword_file = "works.secret"\nallow_plaintext = true\n'
                    f'poll_interval = "1s"\nalert_to = ["{SUPERVISOR}"]\n')
        self.processes = []
        self.addCleanup(self.stop_all)

    def run_cli(self, *args, **kw):
        return super().run_cli("--config", self.config, *args, db=False, **kw)

    def stop_all(self):
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        if hasattr(self, "daemon_log"):
            self.daemon_log.close()

    def start(self):
        ready = os.path.join(self.sink_dir, "ready")
        with open(os.path.join(self.dir, "sink.log"), "a") as log:
            self.processes.append(subprocess.Popen(["/usr/bin/python3", SINK, str(self.sink_port), self.sink_dir],
                                                   stderr=log))
        self.wait_for(lambda: os.path.exists(ready), what="the SMTP sink")
        self.daemon_log = open(os.path.join(self.dir, "casemaild.log"), "a")
        self.processes.append(subprocess.Popen([CASEMAILD, "--config", self.config], stderr=self.daemon_log,
                                               cwd=self.dir))
        self.wait_for(lambda: "event=relay-listening" in self.log(), what="the relay")

    def log(self):
        with open(os.path.join(self.dir, "casemaild.log")) as f:
            return f.read()

    def wait_for(self, predicate, timeout=30, what="a condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}; casemaild log:\n" + self.log()[-3000:])

    def alerts(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.sink_dir, "*.json"))):
            with open(path) as f:
                m = json.load(f)
            msg = email.message_from_string(m["data"])
            if msg["Auto-Submitted"] == "auto-generated":
                out.append((m["rcpt_tos"], msg["Subject"], base64.b64decode(msg.get_payload()).decode()))
        return out

    def acknowledgements(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.sink_dir, "*.json"))):
            with open(path) as f:
                m = json.load(f)
            if email.message_from_string(m["data"])["Auto-Submitted"] == "auto-replied":
                out.append(m["rcpt_tos"])
        return out

    def events(self, token, kind):
        return [e for e in self.ok_json("case", "show", token)["events"] if e["kind"] == kind]

    def test_warning_and_breach_raised_once_and_a_reply_stops_the_clock(self):
        self.ok("init")
        self.start()
        self.dovecot.append("works", [citizen(1, "Pothole on Elm"), citizen(2, "Broken streetlight")])
        self.wait_for(lambda: len(self.ok_json("case", "list")) == 2, what="two cases")
        cases = {c["title"]: c["token"] for c in self.ok_json("case", "list")}
        late, answered = cases["Pothole on Elm"], cases["Broken streetlight"]

        # The agent answers the streetlight at once, through the relay.
        r = subprocess.run([SWAKS, "--server", f"127.0.0.1:{self.relay_port}", "--from", "asmith@city.example",
                            "--to", "citizen2@example.org", "--header", f"Subject: RE: [{answered}] streetlight",
                            "--body", "A crew is on the way.", "--timeout", "20"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.events(answered, "first-response")), 1)

        # The automatic acknowledgements go out, and they stop no clock: a receipt is not a response.
        self.wait_for(lambda: ["citizen1@example.org"] in self.acknowledgements(), what="the pothole's acknowledgement")
        # The pothole waits: warning after 4 s, breach after 8 s, each raised and mailed once.
        self.wait_for(lambda: self.events(late, "sla-breached"), what="the breach")
        time.sleep(2.5)  # more checks run; nothing is raised again
        self.assertEqual(len(self.events(late, "sla-warning")), 1)
        self.assertEqual(len(self.events(late, "sla-breached")), 1)
        warning_at = self.events(late, "sla-warning")[0]["at"]
        show = self.ok_json("case", "show", late)
        created = show["created_at"]
        self.assertGreater(warning_at, created)
        clock = next(c for c in show["sla"] if c["clock"] == "first_response")
        self.assertEqual(clock["state"], "breached")
        self.assertEqual(clock["target_seconds"], 8)
        self.assertGreaterEqual(clock["elapsed_seconds"], 8)
        self.assertIn("event=sla-warning", self.log())
        self.assertIn(f"event=sla-breached case={late} clock=first_response", self.log())

        self.wait_for(lambda: len(self.alerts()) == 2, what="two alert mails")
        subjects = sorted(s for _, s, _ in self.alerts())
        self.assertEqual(subjects, [f"[{late}] SLA breached: first response (Public Works)",
                                    f"[{late}] SLA warning: first response (Public Works)"])
        for rcpts, _, body in self.alerts():
            self.assertEqual(rcpts, [SUPERVISOR])
            self.assertIn("Pothole on Elm", body)
            self.assertIn(f"casemail case show {late}", body)
            self.assertIn("PST", body)  # due time in the city's zone

        # The answered case: met, never warned; no alert mail names it.
        show = self.ok_json("case", "show", answered)
        clock = next(c for c in show["sla"] if c["clock"] == "first_response")
        self.assertEqual(clock["state"], "met")
        self.assertLess(clock["elapsed_seconds"], 4)
        self.assertEqual(self.events(answered, "sla-warning"), [])
        self.assertFalse(any(answered in s for _, s, _ in self.alerts()))

        listed = [c["token"] for c in self.ok_json("case", "list", "--sla", "breached")]
        self.assertEqual(listed, [late])
        queue = self.run_cli("queue", "show", "Public Works").out
        self.assertIn(f"{late}", queue)
        self.assertRegex(queue, late + r".*breached")

    def test_hold_pauses_and_ack_stops_the_clock(self):
        self.ok("init")
        self.start()
        self.dovecot.append("works", [citizen(3, "Records request"), citizen(4, "Missed trash")])
        self.wait_for(lambda: len(self.ok_json("case", "list")) == 2, what="two cases")
        cases = {c["title"]: c["token"] for c in self.ok_json("case", "list")}
        held, acked = cases["Records request"], cases["Missed trash"]
        self.ok("case", "hold", held, "--reason", "waiting for the citizen's address")
        self.fails(2, "case", "hold", held, "--reason", "twice")
        self.ok("case", "ack", acked)  # a phone call
        self.assertIn("already acknowledged", self.fails(2, "case", "ack", acked).err)
        time.sleep(10)  # past the 8 s target: neither may be warned or breached
        for token in (held, acked):
            self.assertEqual(self.events(token, "sla-warning"), [], token)
            self.assertEqual(self.events(token, "sla-breached"), [], token)
        show = self.ok_json("case", "show", held)
        clock = next(c for c in show["sla"] if c["clock"] == "first_response")
        self.assertTrue(clock["on_hold"])
        self.assertIsNone(clock["due"])
        self.assertLess(clock["elapsed_seconds"], 4)
        self.assertIn("on hold", self.run_cli("case", "show", held).out)
        # Resumed, its clock runs on from where it stopped, and it is warned then breached.
        self.ok("case", "resume", held)
        self.wait_for(lambda: self.events(held, "sla-breached"), what="the held case's breach after resume")
        self.assertEqual(self.events(acked, "sla-breached"), [])
        self.assertEqual(next(c for c in self.ok_json("case", "show", acked)["sla"]
                              if c["clock"] == "first_response")["state"], "met")
