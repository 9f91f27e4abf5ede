"""The 311 guide's case workflow through the real CLI and store: team queues and ownership,
parent and child cases and how they close."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402


class WorkflowTestCase(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", "311PublicWorks@city.example")
        self.ok("queue", "add", "--name", "DWP", "--mailbox", "311DWP@city.example")
        self.customer = self.ok_json("contact", "add", "--email", "ann@example.org", "--name", "Ann Lee",
                                     "--registered")["id"]

    def case(self, title, queue="Public Works"):
        return self.ok_json("case", "add", "--customer", self.customer, "--title", title, "--queue", queue)["token"]

    def events(self, token):
        return [(e["actor"], e["kind"], e["detail"]) for e in self.ok_json("case", "show", token)["events"]]


class QueueTest(WorkflowTestCase):
    def test_taken_oldest_first_handed_to_a_supervisor_and_sent_to_another_team(self):
        first, second, third = self.case("Pothole"), self.case("Missed trash"), self.case("Streetlight")
        waiting = self.ok_json("queue", "show", "Public Works")
        self.assertEqual([c["token"] for c in waiting], [first, second, third])  # oldest first
        self.assertTrue(all(c["age"] for c in waiting))
        self.assertIn(f"3 waiting in Public Works, oldest first", self.ok("queue", "show", "Public Works").out)

        self.ok("case", "assign", first, "--to", "jdoe", "--actor", "agent:jdoe")  # take the oldest
        self.assertEqual([c["token"] for c in self.ok_json("queue", "show", "Public Works")], [second, third])
        self.ok("case", "assign", first, "--to", "supervisor", "--actor", "agent:jdoe")  # hand it on
        self.assertEqual(self.ok_json("case", "show", first)["owner"], "supervisor")
        self.assertIn(("agent:jdoe", "assigned", "to supervisor (was jdoe)"), self.events(first))
        self.ok("case", "assign", second, "--to", "jdoe")
        mine = self.ok_json("case", "list", "--owner", "jdoe", "--status", "active")
        self.assertEqual([c["token"] for c in mine], [second])

        self.ok("case", "assign", first, "--queue", "DWP", "--actor", "agent:supervisor")  # another team
        shown = self.ok_json("case", "show", first)
        self.assertEqual((shown["queue"], shown["owner"]), ("DWP", None))
        self.assertEqual([c["token"] for c in self.ok_json("queue", "show", "DWP")], [first])
        self.assertIn(("agent:supervisor", "queue-changed", "to DWP, unassigned (was supervisor)"), self.events(first))

        self.ok("case", "release", second)
        self.assertEqual([c["token"] for c in self.ok_json("queue", "show", "Public Works")], [second, third])
        self.assertEqual(self.events(second)[-1][1], "released")

    def test_refusals_change_nothing(self):
        token = self.case("Pothole")
        self.fails(2, "case", "release", token)  # not assigned
        self.fails(2, "case", "assign", token, "--to", "j doe")
        self.fails(2, "case", "assign", token)  # neither --to nor --queue
        self.fails(2, "case", "assign", token, "--queue", "Nowhere")
        self.fails(2, "case", "assign", token, "--queue", "Public Works")  # already there
        self.fails(2, "queue", "show", "Nowhere")
        self.ok("case", "resolve", token, "--resolution", "filled")
        r = self.fails(2, "case", "assign", token, "--to", "jdoe")
        self.assertIn("resolved: reactivate it first", r.err)
        self.assertEqual([k for _, k, _ in self.events(token)], ["created", "resolved"])
        self.assertEqual(self.ok_json("queue", "show", "Public Works"), [])


class ParentChildTest(WorkflowTestCase):
    def family(self):
        parent, a, b = self.case("Water main break"), self.case("No water at 12 Elm"), self.case("No water at 14 Elm")
        self.ok("case", "link-child", parent, a)
        self.ok("case", "link-child", parent, b)
        return parent, a, b

    def config(self, policy):
        path = os.path.join(self.dir, f"{policy}.toml")
        with open(path, "w") as f:
            f.write(f'[store]\npath = "{self.db}"\n[cases]\nchild_closure = "{policy}"\n')
        return path

    def test_links_are_one_level(self):
        parent, a, b = self.family()
        other = self.case("Other")
        self.assertIn("a child cannot have children", self.fails(2, "case", "link-child", a, other).err)
        self.assertIn("children of its own", self.fails(2, "case", "link-child", other, parent).err)
        self.assertIn("own parent", self.fails(2, "case", "link-child", other, other).err)
        self.assertIn("already a child", self.fails(2, "case", "link-child", parent, a).err)
        self.ok("case", "unlink-child", b)
        self.assertIsNone(self.ok_json("case", "show", b)["parent_case_id"])
        self.assertIn(("cli", "child-unlinked"), [(e[0][:3], e[1]) for e in self.events(parent)])

    def test_independent_close_children_and_block_parent(self):
        parent, a, b = self.family()
        self.ok("case", "resolve", parent, "--resolution", "main repaired")  # independent (default)
        self.assertEqual(self.ok_json("case", "show", a)["status"], "active")

        parent, a, b = self.family()
        self.ok("case", "resolve", b, "--resolution", "restored")
        out = self.ok("--config", self.config("close_children"), "case", "resolve", parent, "--resolution", "fixed").out
        self.assertIn(f"case {a} resolved with its parent", out)
        self.assertNotIn(b, out)  # already resolved
        child = self.ok_json("case", "show", a)
        self.assertEqual(child["status"], "resolved")
        self.assertEqual(child["resolution"], f"closed with parent {parent}: fixed")

        parent, a, b = self.family()
        blocked = self.config("block_parent")
        r = self.fails(2, "--config", blocked, "case", "resolve", parent, "--resolution", "fixed")
        self.assertIn(f"has active children ({a}, {b})", r.err)
        self.assertEqual(self.ok_json("case", "show", parent)["status"], "active")
        for c in (a, b):
            self.ok("case", "resolve", c, "--resolution", "restored")
        self.ok("--config", blocked, "case", "resolve", parent, "--resolution", "fixed")


class ResolutionAndNotesTest(WorkflowTestCase):
    def test_types_time_spent_and_notes_with_attachments(self):
        token = self.case("Records request")
        photo = os.path.join(self.dir, "site-photo.jpg")
        with open(photo, "wb") as f:
            f.write(b"\xff\xd8\xff\xe0 not really a jpeg")
        self.ok("case", "note", token, "--text", "Called the resident", "--attach", photo, "--actor", "agent:kim")
        self.fails(2, "case", "note", token)  # neither text nor file
        err = self.fails(2, "case", "resolve", token, "--type", "Solved", "--resolution", "sent").err
        self.assertIn("unknown resolution type 'Solved' (configured: Problem Solved, Information Provided", err)
        self.fails(2, "case", "resolve", token, "--resolution", "sent", "--time-spent", "a while")
        self.ok("case", "resolve", token, "--type", "information provided", "--resolution", "sent the file",
                "--time-spent", "45m")
        shown = self.ok_json("case", "show", token)
        self.assertEqual((shown["resolution_type"], shown["time_spent_minutes"]), ("Information Provided", 45))
        note = shown["notes"][0]
        self.assertEqual((note["author"], note["text"]), ("agent:kim", "Called the resident"))
        import hashlib
        self.assertEqual(note["attachments"], [{"index": 1, "filename": "site-photo.jpg", "size": 22,
                                                "sha256": hashlib.sha256(b"\xff\xd8\xff\xe0 not really a jpeg").hexdigest()}])
        self.assertIn("note-added", [e[1] for e in self.events(token)])
        human = self.ok("case", "show", token).out
        self.assertIn("resolution (Information Provided): sent the file   time spent: 45 min", human)
        self.assertIn("agent:kim: Called the resident", human)
        # the default type is the first configured
        other = self.case("Pothole")
        self.ok("case", "resolve", other, "--resolution", "filled")
        self.assertEqual(self.ok_json("case", "show", other)["resolution_type"], "Problem Solved")


ROUTES = '''
[[route]]
name = "spam"
header = "X-Spam-Flag: YES"
no_case = true

[[route]]
name = "water to DWP"
subject = ["leak", "water main"]
queue = "DWP"
category = "Water"
request_type = "report"
priority = "high"
'''


class RoutingTest(WorkflowTestCase):
    def write_config(self, routes=ROUTES):
        path = os.path.join(self.dir, "routes.toml")
        with open(path, "w") as f:
            f.write(f'[store]\npath = "{self.db}"\n' + routes)
        return path

    def message(self, subject, extra=""):
        path = os.path.join(self.dir, f"{abs(hash(subject))}.eml")
        with open(path, "w") as f:
            f.write(f"From: Ann Lee <ann@example.org>\r\nTo: 311PublicWorks@city.example\r\nSubject: {subject}\r\n"
                    f"Message-ID: <{abs(hash(subject))}@example.org>\r\n{extra}\r\nHello.\r\n")
        return path

    def ingest(self, cfg, path):
        import json
        return json.loads(self.ok("--config", cfg, "ingest", "--mailbox", "311PublicWorks@city.example", "--json",
                                  path).out)

    def test_spam_makes_no_case_and_a_keyword_routes_to_another_team(self):
        cfg = self.write_config()
        spam = self.ingest(cfg, self.message("Cheap meds", "X-Spam-Flag: YES\r\n"))
        self.assertEqual((spam["action"], spam["case"]), ("ignored", None))
        self.assertEqual(spam["reason"], "no case: routing rule 'spam'")
        self.assertEqual(self.ok_json("case", "list"), [])
        self.assertEqual(self.sql_count("SELECT count(*) FROM email"), 1)  # stored all the same
        self.assertEqual(self.sql_count("SELECT count(*) FROM outbox"), 0)  # no acknowledgement

        water = self.ingest(cfg, self.message("Water main break on Elm"))
        case = self.ok_json("case", "show", water["case"])
        self.assertEqual((case["queue"], case["category"], case["request_type"], case["priority"], case["route"]),
                         ("DWP", "Water", "Report", "high", "water to DWP"))
        self.assertIn("routed by rule 'water to DWP'", case["emails"][0]["correlation"]["evidence"])
        reply = self.ingest(cfg, self.message(f"RE: [{water['case']}] leak again", "X-Spam-Flag: YES\r\n"))
        self.assertEqual((reply["action"], reply["case"]), ("linked", water["case"]))  # never re-routed

        plain = self.ingest(cfg, self.message("Pothole"))
        self.assertEqual(self.ok_json("case", "show", plain["case"])["queue"], "Public Works")

    def test_route_test_explains_and_writes_nothing(self):
        cfg = self.write_config()
        r = self.ok_json("--config", cfg, "route", "test", self.message("A leak"), "--mailbox",
                         "311PublicWorks@city.example")
        self.assertEqual(r["rule"]["name"], "water to DWP")
        self.assertEqual(r["rule"]["why"], ["subject has the word 'leak'"])
        self.assertEqual(r["misses"], ["rule 'spam' (line 4): no header X-Spam-Flag"])
        out = self.ok("--config", cfg, "route", "test", self.message("Pothole")).out
        self.assertIn("no rule matches", out)
        self.assertEqual(self.sql_count("SELECT count(*) FROM email"), 0)

    def test_a_bad_rule_fails_the_config_check_with_its_line(self):
        cfg = self.write_config('[[route]]\nname = "x"\nsubject_regex = "(unclosed"\nqueue = "DWP"\n'
                                '[[route]]\nname = "y"\ncolour = "red"\n')
        r = self.run_cli("--config", cfg, "case", "list")
        self.assertEqual(r.code, 2, r.err)
        self.assertIn("routes.toml:5: key 'route[1].subject_regex': invalid regular expression", r.err)
        self.assertIn("routes.toml:9: key 'route[2].colour': unknown key", r.err)
        self.assertIn("routes.toml:7: key 'route[2]': needs an action", r.err)

    def sql_count(self, query):
        import sqlite3
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query).fetchone()[0]
        finally:
            con.close()
