"""casemail case export for a public records request, through the real CLI and store: every
email byte for byte, the attachments decoded (a blocked one as metadata, said in the manifest),
the case JSON and audit log, a MANIFEST.sha256 that sha256sum -c verifies, identical twice;
--redact-customer for release."""
import base64
import filecmp
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402

PW = "311PublicWorks@city.example"


class ExportTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", PW)
        self.ok("contact", "add", "--email", "ann.lee@example.org", "--name", "Ann Lee", "--registered")
        self.photo = bytes((i * 13) % 256 for i in range(30000))
        encoded = base64.encodebytes(self.photo).decode().replace("\n", "\r\n")
        self.first = (
            "From: Ann Lee <ann.lee@example.org>\r\nTo: " + PW + "\r\nSubject: Fence down at 12 Elm\r\n"
            "Message-ID: <x1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\nPhoto attached. Ann Lee, 12 Elm St.\r\n"
            "--b\r\nContent-Type: image/jpeg; name=\"../../etc/fence photo.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + encoded +
            "--b\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b--\r\n").encode()
        path = os.path.join(self.dir, "first.eml")
        with open(path, "wb") as f:
            f.write(self.first)
        self.token = json.loads(self.ok("ingest", "--mailbox", PW, path, "--json").out.splitlines()[0])["case"]
        self.second = (f"From: \"A. L.\" <ann.lee@example.org>\r\nTo: {PW}\r\nSubject: RE: [{self.token}] any news?\r\n"
                       f"Message-ID: <x2@example.org>\r\n\r\nStill down.\r\n").encode()
        path = os.path.join(self.dir, "second.eml")
        with open(path, "wb") as f:
            f.write(self.second)
        self.ok("ingest", "--mailbox", PW, path)
        plan = os.path.join(self.dir, "repair-plan.txt")
        with open(plan, "w") as f:
            f.write("Crew 7, Tuesday.\n")
        self.ok("case", "note", self.token, "--text", "Called Ann Lee back", "--attach", plan, "--actor", "agent:jdoe")

    def export(self, name, *extra):
        out = os.path.join(self.dir, name)
        self.ok("case", "export", self.token, "--out", out, *extra)
        return out

    def files(self, root):
        return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)

    def test_everything_byte_for_byte_verified_and_identical_twice(self):
        out = self.export("export-1")
        self.assertEqual(self.files(out), [
            "MANIFEST.sha256", "attachments/001-in-1-fence_photo.jpg", "audit.json", "case.json",
            "emails/001-in.eml", "emails/002-in.eml", "notes/1-1-repair-plan.txt"])
        with open(os.path.join(out, "emails", "001-in.eml"), "rb") as f:
            self.assertEqual(f.read(), self.first)  # exactly as received
        with open(os.path.join(out, "emails", "002-in.eml"), "rb") as f:
            self.assertEqual(f.read(), self.second)
        with open(os.path.join(out, "attachments", "001-in-1-fence_photo.jpg"), "rb") as f:
            self.assertEqual(f.read(), self.photo)
        check = subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.count(": OK"), 6)
        with open(os.path.join(out, "MANIFEST.sha256")) as f:
            manifest = f.read()
        self.assertIn("# attachments/001-in-2-run.exe: blocked type application/octet-stream, kept as metadata only", manifest)
        with open(os.path.join(out, "case.json")) as f:
            case = json.load(f)
        self.assertEqual((case["token"], case["customer"]["email"], len(case["emails"])),
                         (self.token, "ann.lee@example.org", 2))
        self.assertEqual(case["notes"][0]["attachments"][0]["sha256"], hashlib.sha256(b"Crew 7, Tuesday.\n").hexdigest())
        with open(os.path.join(out, "audit.json")) as f:
            self.assertEqual([e["kind"] for e in json.load(f)][0], "created")

        again = self.export("export-2")
        match, mismatch, errors = filecmp.cmpfiles(out, again, self.files(out), shallow=False)
        self.assertEqual((mismatch, errors), ([], []))
        self.assertEqual(self.files(again), self.files(out))
        self.assertEqual(oct(os.stat(out).st_mode & 0o777), "0o700")

    def test_redacted_copy_for_release(self):
        out = self.export("release", "--redact-customer")
        self.assertNotIn("emails/001-in.eml", self.files(out))
        text = ""
        for name in ("case.json", "audit.json"):
            with open(os.path.join(out, name)) as f:
                text += f.read()
        self.assertNotIn("ann.lee@example.org", text.lower())
        self.assertNotIn("ann lee", text.lower())
        self.assertNotIn("A. L.", text)  # a display name of the customer's own, not her contact name
        self.assertIn("[redacted]", text)
        with open(os.path.join(out, "MANIFEST.sha256")) as f:
            self.assertIn("# emails/: left out of this redacted copy", f.read())
        check = subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        with open(os.path.join(out, "case.json")) as f:
            case = json.load(f)
        self.assertEqual((case["customer"], case["title"]), ("[redacted]", "Fence down at 12 Elm"))

    def test_never_overwrites_and_unknown_case(self):
        out = self.export("export-1")
        r = self.fails(2, "case", "export", self.token, "--out", out)
        self.assertIn("exists and is not empty", r.err)
        self.fails(2, "case", "export", "311-999999-ZZZZ", "--out", os.path.join(self.dir, "nothing"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "nothing")))
