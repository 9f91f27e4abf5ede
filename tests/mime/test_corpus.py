"""Runs `casemail parse --json` over every fixture in tests/mime/corpus and checks it against
NAME.expect.json, which holds a subset of the output:

- a dict matches when each of its keys matches (other keys in the output are not checked);
- a list matches element by element and must have the same length;
- {"$contains": S} matches a string containing S;
- "defects_include": [S, ...] requires each S to be a substring of some reported defect;
- anything else must be equal.
"""
import glob
import json
import os
import subprocess
import sys
import unittest

CASEMAIL = os.environ.get("CASEMAIL_BIN", "casemail")
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def mismatch(expected, actual, path="$"):
    """Returns a description of the first mismatch, or None."""
    if isinstance(expected, dict) and set(expected) == {"$contains"}:
        if not isinstance(actual, str) or expected["$contains"] not in actual:
            return f"{path}: {actual!r} does not contain {expected['$contains']!r}"
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key == "defects_include":
                for want in value:
                    if not any(want in d for d in actual.get("defects", [])):
                        return f"{path}.defects: no defect contains {want!r} (got {actual.get('defects')})"
                continue
            if key not in actual:
                return f"{path}.{key}: missing"
            m = mismatch(value, actual[key], f"{path}.{key}")
            if m:
                return m
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected {len(expected)} items {expected!r}, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            m = mismatch(e, a, f"{path}[{i}]")
            if m:
                return m
        return None
    if expected != actual:
        return f"{path}: expected {expected!r}, got {actual!r}"
    return None


class CorpusTest(unittest.TestCase):
    def test_corpus_size(self):
        self.assertGreaterEqual(len(glob.glob(os.path.join(CORPUS, "*.eml"))), 60)

    def test_fixtures(self):
        fixtures = sorted(glob.glob(os.path.join(CORPUS, "*.eml")))
        for eml in fixtures:
            name = os.path.basename(eml)[:-4]
            with self.subTest(fixture=name):
                with open(eml[:-4] + ".expect.json", encoding="utf-8") as f:
                    expected = json.load(f)
                proc = subprocess.run([CASEMAIL, "parse", "--json", eml], capture_output=True, timeout=60)
                self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
                actual = json.loads(proc.stdout)
                problem = mismatch(expected, actual)
                self.assertIsNone(problem, f"{name}: {problem}")

    def test_stdin_and_errors(self):
        with open(os.path.join(CORPUS, "basic_plain.eml"), "rb") as f:
            raw = f.read()
        proc = subprocess.run([CASEMAIL, "parse", "--json", "-"], input=raw, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(json.loads(proc.stdout)["message_id"], "abc123@example.org")
        proc = subprocess.run([CASEMAIL, "parse", "-"], input=b"", capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"empty message", proc.stderr)
        proc = subprocess.run([CASEMAIL, "parse", "/nonexistent/x.eml"], capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"cannot read", proc.stderr)

    def test_fuzzer_findings_fail_cleanly(self):
        # Inputs the fuzzer found; mimetic itself throws on one of them. Each must give a
        # result or a one-line reason with exit 1, never a crash or an uncaught exception.
        regress = os.path.join(os.path.dirname(CORPUS), "regress")
        for path in sorted(glob.glob(os.path.join(regress, "*.eml"))):
            with self.subTest(file=os.path.basename(path)):
                proc = subprocess.run([CASEMAIL, "parse", "--json", path], capture_output=True, timeout=60)
                self.assertIn(proc.returncode, (0, 1), proc.stderr)
                if proc.returncode == 1:
                    self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
                    self.assertIn(b"could not be parsed", proc.stderr)

    def test_limit_is_a_clear_error(self):
        deep = "From: a@example.org\r\nSubject: deep\r\n"
        body = ""
        for i in range(40):
            deep += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
        deep += "Content-Type: text/plain\r\n\r\nbottom\r\n"
        proc = subprocess.run([CASEMAIL, "parse", "-"], input=deep.encode(), capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn(b"nesting deeper than the limit of 32", proc.stderr)


if __name__ == "__main__":
    unittest.main()
