"""Differential test: casemail's parser against Python's email package (policy.default) on a
generated corpus. Python builds each message (random structure, charsets, transfer encodings,
encoded headers, attachments); both parsers read the same bytes and must agree on subject,
addresses, Message-ID, body text and attachments (name, size, sha256); To is checked against
the recipients that were built."""
import hashlib
import json
import os
import random
import subprocess
import tempfile
import unittest
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.headerregistry import Address

CASEMAIL = os.environ.get("CASEMAIL_BIN", "casemail")

TEXTS = [
    ("utf-8", "Pothole on Main St — please fix 🚧"),
    ("iso-8859-1", "Le trottoir est abîmé, merci"),
    ("koi8-r", "Яма на дороге у дома"),
    ("shift_jis", "道路に穴があります"),
    ("gbk", "路灯坏了，请修理"),
    ("windows-1252", "“Smart quotes” and € signs"),
    ("big5", "水管破裂了"),
    ("utf-8", "plain ascii text only"),
]
NAMES = ["Ann Lee", "Lee, Ann", "Jürgen Müller", "Françoise L'Évesque", "山田 太郎", "O'Neil (Ward 3)"]


def build(rng, i):
    msg = EmailMessage(policy=policy.SMTP)
    charset, subject = rng.choice(TEXTS)
    msg["Subject"] = subject + f" #{i}"
    msg["From"] = Address(rng.choice(NAMES), "citizen", f"example{i}.org")
    to = [Address(rng.choice(NAMES), f"to{k}", "city.example") for k in range(rng.randint(1, 3))]
    msg["To"] = ", ".join(str(a) for a in to)
    msg["Message-ID"] = f"<diff{i}@example.org>"
    body_charset, body = rng.choice(TEXTS)
    cte = rng.choice(["base64", "quoted-printable", "8bit"])
    if cte == "8bit" and body_charset not in ("utf-8",):
        cte = "base64"
    msg.set_content(body + f"\nline {i}\n", charset=body_charset, cte=cte)
    if rng.random() < 0.4:
        msg.add_alternative(f"<p>{body}</p>", subtype="html")
    for k in range(rng.randint(0, 2)):
        data = rng.randbytes(rng.randint(1, 4000))
        name = rng.choice(["scan.pdf", "photo ümlaut.jpg", "дом.png", "report 2026.xlsx"])
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=f"{k}-{name}")
    return msg.as_bytes(), [{"name": a.display_name, "address": a.addr_spec} for a in to]


def python_view(raw):
    m = BytesParser(policy=policy.default).parsebytes(raw)
    body = m.get_body(preferencelist=("plain",))
    atts = []
    for part in m.iter_attachments():
        data = part.get_content()
        if isinstance(data, str):
            data = data.encode()
        atts.append({"filename": part.get_filename(), "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return {
        "subject": str(m["subject"]),
        "message_id": str(m["message-id"]).strip("<>"),
        "from": [{"name": a.display_name, "address": a.addr_spec} for a in m["from"].addresses],
        "to": [{"name": a.display_name, "address": a.addr_spec} for a in m["to"].addresses],
        # casemail normalises line breaks in text to LF on purpose
        "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
        "attachments": atts,
    }


class DifferentialTest(unittest.TestCase):
    def test_agree_with_python_email(self):
        rng = random.Random(1122)
        with tempfile.TemporaryDirectory() as d:
            for i in range(150):
                raw, built_to = build(rng, i)
                path = os.path.join(d, f"m{i}.eml")
                with open(path, "wb") as f:
                    f.write(raw)
                expected = python_view(raw)
                proc = subprocess.run([CASEMAIL, "parse", "--json", path], capture_output=True, timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                got = json.loads(proc.stdout)
                with self.subTest(message=i):
                    self.assertEqual(got["subject"], expected["subject"])
                    self.assertEqual(got["message_id"], expected["message_id"])
                    self.assertEqual(got["from"], expected["from"])
                    # To is compared with what was built: Python folds the separating comma
                    # into an encoded-word on long lists and then cannot read its own output
                    # (it loses a recipient); casemail recovers all of them.
                    self.assertEqual(got["to"], built_to)
                    self.assertEqual(got["text"], expected["text"])
                    self.assertEqual([{k: a[k] for k in ("filename", "size", "sha256")} for a in got["attachments"]],
                                     expected["attachments"])


if __name__ == "__main__":
    unittest.main()
