"""casemail report on a generated store whose answers are known (tests/support/generate_store.py):
every dimension's counts, the median and 90th percentile times, the SLA breach share, the period
bounds, and the CSV and table forms."""
import collections
import csv
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from generate_store import generate, iso, percentile  # noqa: E402


class ReportTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.cases = generate(self.db, 600)
        self.config = os.path.join(self.dir, "casemail.toml")
        with open(self.config, "w") as f:  # SLA clocks for urgent and high cases only
            f.write(f'[store]\npath = "{self.db}"\n[[sla]]\npriority = "urgent"\nfirst_response = "1h"\n'
                    f'[[sla]]\npriority = "high"\nfirst_response = "4h"\n')

    def report(self, *args):
        return self.ok_json("--config", self.config, "report", *args, db=False)

    def expected(self, cases, key):
        groups = collections.defaultdict(list)
        for c in cases:
            groups[key(c) or "(none)"].append(c)
        groups["(all)"] = list(cases)
        out = {}
        for g, members in groups.items():
            responses = [c["response"] for c in members if c["response"] is not None]
            resolutions = [c["resolution"] for c in members if c["resolution"] is not None]
            under = [c for c in members if c["priority"] in ("urgent", "high") or c["breached"]]
            out[g] = {"group": g, "opened": len(members),
                      "resolved": sum(c["status"] == "resolved" for c in members),
                      "active": sum(c["status"] == "active" for c in members),
                      "cancelled": sum(c["status"] == "cancelled" for c in members),
                      "first_response_s": {"median": percentile(responses, 50), "p90": percentile(responses, 90)},
                      "resolution_s": {"median": percentile(resolutions, 50), "p90": percentile(resolutions, 90)},
                      "sla_breach_share": (sum(c["breached"] for c in under) / len(under)) if under else None}
        return out

    def check(self, rows, expected):
        self.assertEqual([r["group"] for r in rows][-1], "(all)")
        self.assertEqual(sorted(r["group"] for r in rows), sorted(expected))
        for r in rows:
            e = expected[r["group"]]
            share, expected_share = r.pop("sla_breach_share"), e["sla_breach_share"]
            self.assertEqual(r, {k: v for k, v in e.items() if k != "sla_breach_share"}, r["group"])
            if expected_share is None:
                self.assertIsNone(share)
            else:
                self.assertAlmostEqual(share, expected_share, places=9)

    def test_every_dimension_against_known_answers(self):
        month = lambda c: iso(c["created"])[:7]
        for by, key in [("queue", lambda c: c["queue"]), ("ward", lambda c: c["ward"]),
                        ("property", lambda c: c["property"]), ("category", lambda c: c["category"]),
                        ("status", lambda c: c["status"]), ("origin", lambda c: "email"), ("month", month),
                        ("request-type", lambda c: None)]:
            with self.subTest(by=by):
                self.check(self.report("--by", by), self.expected(self.cases, key))
        months = [r["group"] for r in self.report("--by", "month")][:-1]
        self.assertEqual(months, sorted(months))  # months in time order

    def test_a_period(self):
        lo, hi = 1775001600, 1782864000  # 2026-04-01 .. 2026-07-01 UTC
        inside = [c for c in self.cases if lo <= c["created"] < hi]
        rows = self.report("--by", "ward", "--from", "2026-04-01", "--to", "2026-07-01")
        self.check(rows, self.expected(inside, lambda c: c["ward"]))
        self.fails(2, "--config", self.config, "report", "--by", "ward", "--from", "April", db=False)
        self.fails(2, "--config", self.config, "report", "--by", "colour", db=False)

    def test_csv_and_table(self):
        out = self.ok("--config", self.config, "report", "--by", "ward", "--csv", db=False).out
        rows = list(csv.DictReader(io.StringIO(out)))
        expected = self.expected(self.cases, lambda c: c["ward"])
        self.assertEqual({r["ward"]: int(r["opened"]) for r in rows}, {g: e["opened"] for g, e in expected.items()})
        self.assertEqual(rows[-1]["first_response_median_s"], str(expected["(all)"]["first_response_s"]["median"]))
        table = self.ok("--config", self.config, "report", "--by", "ward", db=False).out
        self.assertIn("Ward 3", table)
        self.assertIn("(all)", table)
