"""Knowledge articles through the real CLI and store: added from Markdown, searched with FTS5
(stemmed, ranked, FTS syntax in a query harmless), suggested for a case from its mail, linked to
the case, and mailed to the customer through the relay's rules and the outbox (internal
articles refused)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402

PW = "311PublicWorks@city.example"
ARTICLES = [
    ("Reporting a pothole", "Potholes are filled within 5 business days. Tell us the street and the nearest house number.",
     "streets", False),
    ("Missed trash pickup", "If your trash was not collected, leave the cart out; a truck returns the next day.",
     "sanitation", False),
    ("Pothole crew escalation", "Internal: call the night crew for potholes deeper than 10 cm on arterials.",
     "streets", True),
]


class KbTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", PW)
        self.ids = []
        for title, body, category, internal in ARTICLES:
            path = os.path.join(self.dir, "article.md")
            with open(path, "w") as f:
                f.write(f"# {title}\n\n{body}\n")
            args = ["kb", "add", "--title", title, "--file", path, "--category", category] + (["--internal"] if internal else [])
            self.ids.append(self.ok_json(*args)["id"])
        mail = os.path.join(self.dir, "m.eml")
        with open(mail, "w") as f:
            f.write(f"From: Bob <bob@example.org>\r\nTo: {PW}\r\nSubject: Huge pothole on Elm\r\n"
                    "Message-ID: <k1@example.org>\r\n\r\nThere is a big pothole outside 12 Elm St.\r\n")
        self.token = json.loads(self.ok("ingest", "--mailbox", PW, mail, "--json").out.splitlines()[0])["case"]

    def test_search_is_stemmed_ranked_and_safe(self):
        hits = self.ok_json("kb", "search", "pothole")  # stemmed: finds "Potholes" too
        self.assertEqual(sorted(h["id"] for h in hits), sorted([self.ids[0], self.ids[2]]))
        self.assertTrue(all("[Potholes]" in h["snippet"] or "[potholes]" in h["snippet"] for h in hits), hits)
        self.assertEqual([h["id"] for h in self.ok_json("kb", "search", "reporting potholes")], [self.ids[0]])
        self.assertEqual([h["id"] for h in self.ok_json("kb", "search", "Trash  CART")], [self.ids[1]])
        ranked = self.ok_json("kb", "search", "crew")  # in one title and no other text: that one only
        self.assertEqual([h["id"] for h in ranked], [self.ids[2]])
        both = self.ok_json("kb", "search", "potholes filled")
        self.assertEqual([h["id"] for h in both], [self.ids[0]])
        self.assertLess(hits[0]["rank"], 0)  # bm25: lower is better, best first
        self.assertLessEqual(hits[0]["rank"], hits[1]["rank"])
        self.assertEqual(self.ok_json("kb", "search", "trash pothole"), [])  # every word must match
        for hostile in ['"pothole" OR', 'NEAR(pothole', 'title:pothole*', '")(^*']:
            r = self.run_cli("kb", "search", hostile, "--json")
            self.assertEqual(r.code, 0, r.err)
        self.assertEqual(self.ok_json("kb", "show", self.ids[1])["body"], "# Missed trash pickup\n\n" + ARTICLES[1][1] + "\n")
        self.assertEqual([a["id"] for a in self.ok_json("kb", "list", "--category", "streets")], [self.ids[0], self.ids[2]])
        self.fails(2, "kb", "show", "999")

    def test_suggested_linked_and_sent_to_the_customer_only(self):
        suggested = [h["id"] for h in self.ok_json("kb", "suggest", self.token)]  # from "Huge pothole on Elm" ...
        self.assertEqual(sorted(suggested), sorted([self.ids[0], self.ids[2]]))  # not the trash article

        self.ok("case", "link-kb", self.token, str(self.ids[2]), "--actor", "agent:jdoe")
        r = self.fails(2, "case", "send-kb", self.token, str(self.ids[2]))
        self.assertIn("internal", r.err)
        self.ok("case", "send-kb", self.token, str(self.ids[0]), "--from", "jdoe@city.example", "--actor", "agent:jdoe")
        case = self.ok_json("case", "show", self.token)
        self.assertEqual(sorted(a["id"] for a in case["articles"]), sorted([self.ids[2], self.ids[0]]))
        kinds = [(e["kind"], e["detail"]) for e in case["events"]]
        self.assertIn(("kb-linked", f"article {self.ids[2]}: Pothole crew escalation"), kinds)
        self.assertIn(("kb-sent", f"article {self.ids[0]}: Reporting a pothole"), kinds)

        outbox = [e for e in self.ok_json("outbox", "list") if e["kind"] == "reply"]
        self.assertEqual(len(outbox), 1)
        self.assertEqual((outbox[0]["to"], outbox[0]["envelope_to"]), ("bob@example.org", ["bob@example.org"]))
        self.assertEqual(outbox[0]["envelope_from"], PW)  # rewritten to the queue's mailbox, as replies are
        self.assertEqual(outbox[0]["case"], self.token)
        out = [e for e in case["emails"] if e["direction"] == "out"]
        self.assertEqual(len(out), 1)  # recorded on the case, as a reply is
        self.assertIn(self.token, out[0]["subject"])
        self.assertIn("Reporting a pothole", out[0]["subject"])
