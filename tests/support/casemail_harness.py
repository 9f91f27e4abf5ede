"""Helpers for end-to-end tests that drive the real casemail binaries.

CASEMAIL_BIN (set by CTest) points at the casemail executable. Every test gets its own
temporary directory and store; nothing outside it is touched.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

CASEMAIL = os.environ.get("CASEMAIL_BIN", "casemail")


def nested_message(levels, sender="a@example.org"):
    """A message whose text part sits `levels` multipart levels deep (for limit tests)."""
    text = f"From: {sender}\r\nSubject: deep\r\n"
    for i in range(levels):
        text += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
    return text + "Content-Type: text/plain\r\n\r\nbottom\r\n"


class CliResult:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)


class CasemailTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="casemail-e2e-")
        self.db = os.path.join(self.dir, "casemail.db")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def run_cli(self, *args, db=True, stdin=None, env=None):
        cmd = [CASEMAIL] + (["--db", self.db] if db else []) + [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.pop("CASEMAIL_DB", None)
        full_env.pop("CASEMAIL_CONFIG", None)
        full_env.update(env or {})
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=full_env,
                              cwd=self.dir, timeout=120)
        return CliResult(proc)

    def ok(self, *args, **kw):
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.code, 0, f"casemail {' '.join(map(str, args))} failed: {r.err}")
        return r

    def ok_json(self, *args, **kw):
        return self.ok(*args, "--json", **kw).json()

    def fails(self, code, *args, **kw):
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.code, code, f"expected exit {code}, got {r.code}: {r.err}")
        self.assertTrue(r.err.strip(), "expected an error message on stderr")
        self.assertEqual(len(r.err.strip().splitlines()), 1, f"error is not one line: {r.err!r}")
        return r
