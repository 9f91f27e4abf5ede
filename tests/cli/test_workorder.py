"""The work-order hand-off (the 311 guide's NexGen step) through the real CLI, store and spool
directories: a case written atomically as JSON for the work-order system and read-only here;
status updates dropped by that system applied once, malformed or refused ones moved to
rejected/ with the reason and nothing applied; the case resolved when its work order is. Both
JSON shapes checked against the schema files the README points to."""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402
from schema_check import schema_errors  # noqa: E402

CASEMAILD = os.environ.get("CASEMAILD_BIN", "casemaild")
SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "workorder")


class WorkOrderTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.out_dir = os.path.join(self.dir, "nexgen-out")
        self.in_dir = os.path.join(self.dir, "nexgen-in")
        os.makedirs(self.out_dir)
        os.makedirs(self.in_dir)
        self.config = os.path.join(self.dir, "casemail.toml")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "{self.db}"\n[[workorder]]\nname = "nexgen"\noutbox_dir = "{self.out_dir}"\n'
                    f'inbox_dir = "{self.in_dir}"\nresolution_type = "Referred"\n')
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", "311PublicWorks@city.example")
        customer = self.ok_json("contact", "add", "--email", "ann@example.org", "--name", "Ann Lee", "--registered")["id"]
        place = self.ok_json("account", "add", "--kind", "property", "--name", "12 Elm St", "--address",
                             "12 Elm St, Springfield", "--ward", "Ward 4", "--parcel", "APN-1234")["id"]
        self.token = self.ok_json("case", "add", "--customer", customer, "--title", "Pothole outside 12 Elm",
                                  "--queue", "Public Works", "--property", place)["token"]

    def cli(self, *args, code=0):
        r = self.run_cli("--config", self.config, *args, db=False)
        self.assertEqual(r.code, code, r.err)
        return r

    def drop(self, name, update):
        """The work-order system's side: written under another name, then renamed."""
        tmp = os.path.join(self.in_dir, "." + name + ".part")
        with open(tmp, "w") as f:
            f.write(update if isinstance(update, str) else json.dumps(update))
        os.rename(tmp, os.path.join(self.in_dir, name))

    def show(self):
        return json.loads(self.cli("case", "show", self.token, "--json").out)

    def test_handed_over_read_only_updated_and_resolved_from_there(self):
        out = self.cli("case", "submit-workorder", self.token, "--actor", "agent:jdoe").out
        docs = glob.glob(os.path.join(self.out_dir, "*.json"))
        self.assertEqual(len(docs), 1, os.listdir(self.out_dir))  # no temporary file left beside it
        self.assertIn(docs[0], out)
        with open(docs[0]) as f:
            doc = json.load(f)
        self.assertEqual(schema_errors(os.path.join(SCHEMAS, "case.schema.json"), doc), [])
        self.assertEqual((doc["case"], doc["system"], doc["submitted_by"]), (self.token, "nexgen", "agent:jdoe"))
        self.assertEqual(doc["property"], {"name": "12 Elm St", "civic_address": "12 Elm St, Springfield",
                                           "parcel_id": "APN-1234", "ward": "Ward 4"})
        self.assertNotIn("ann@example.org", json.dumps(doc))  # who asked stays here
        self.assertNotIn("Ann Lee", json.dumps(doc))

        # read-only here while the work-order system has it
        for args in (["case", "assign", self.token, "--to", "jdoe"], ["case", "update", self.token, "--title", "x"],
                     ["case", "resolve", self.token, "--resolution", "done"],
                     ["case", "submit-workorder", self.token]):
            r = self.cli(*args, code=2)
            self.assertIn("work-order system nexgen", r.err)
        self.assertEqual(self.show()["work_order"]["open"], True)

        update = {"case": self.token, "external_id": "WO-118734", "url": "https://nexgen.city.example/wo/118734",
                  "status": "scheduled", "note": "Crew 7 on Tuesday."}
        self.assertEqual(schema_errors(os.path.join(SCHEMAS, "update.schema.json"), update), [])
        self.drop("0001.json", update)
        self.assertIn("0001.json: applied", self.cli("workorder", "sync").out)
        self.assertEqual(os.listdir(os.path.join(self.in_dir, "processed")), ["0001.json"])
        shown = self.show()
        self.assertEqual((shown["status"], shown["work_order"]["external_id"], shown["work_order"]["url"],
                          shown["work_order"]["status"]),
                         ("active", "WO-118734", "https://nexgen.city.example/wo/118734", "scheduled"))
        human = self.cli("case", "show", self.token).out
        self.assertIn("Work order (nexgen): with it (read-only here)", human)
        self.assertIn("id WO-118734; https://nexgen.city.example/wo/118734", human)

        self.drop("0002.json", {"case": self.token.lower(), "status": "Resolved", "note": "Pothole filled.",
                                "resolved_at": "2026-11-30T15:40:00Z"})
        self.cli("workorder", "sync")
        shown = self.show()
        self.assertEqual((shown["status"], shown["work_order"]["open"]), ("resolved", False))
        self.assertEqual(shown["resolution_type"], "Referred")
        self.assertIn("work order WO-118734 resolved in nexgen: Pothole filled.", shown["resolution"])
        kinds = [e["kind"] for e in shown["events"]]
        self.assertEqual(kinds, ["created", "workorder-submitted", "workorder-updated", "workorder-updated", "resolved"])
        listed = json.loads(self.cli("workorder", "list", "--json").out)
        self.assertEqual([(w["case"], w["open"]) for w in listed], [(self.token, False)])
        self.assertEqual(json.loads(self.cli("workorder", "list", "--open", "--json").out), [])

    def test_bad_updates_are_rejected_with_the_reason_and_nothing_applied(self):
        self.cli("case", "submit-workorder", self.token)
        bad = {
            "a-not-json.json": "{ not json",
            "b-array.json": "[1, 2]",
            "c-no-status.json": {"case": self.token},
            "d-extra-key.json": {"case": self.token, "status": "x", "crew": 7},
            "e-unknown-case.json": {"case": "311-999999-ZZZZ", "status": "resolved"},
            "f-not-a-token.json": {"case": "pothole", "status": "resolved"},
            "g-bad-url.json": {"case": self.token, "status": "x", "url": "javascript:alert(1)"},
            "h-bad-time.json": {"case": self.token, "status": "resolved", "resolved_at": "Tuesday"},
        }
        for name, content in bad.items():
            self.drop(name, content)
            if not isinstance(content, str) and name != "e-unknown-case.json":  # the schema refuses them too
                self.assertNotEqual(schema_errors(os.path.join(SCHEMAS, "update.schema.json"), content), [], name)
        with open(os.path.join(self.in_dir, "notes.txt"), "w") as f:
            f.write("not an update: left alone\n")
        out = json.loads(self.cli("workorder", "sync", "--json").out)
        self.assertEqual([(o["file"], o["action"]) for o in out], [(n, "rejected") for n in sorted(bad)])
        rejected = os.path.join(self.in_dir, "rejected")
        for name in bad:
            with open(os.path.join(rejected, name + ".reason")) as f:
                self.assertTrue(f.read().strip(), name)
        with open(os.path.join(rejected, "e-unknown-case.json.reason")) as f:
            self.assertEqual(f.read().strip(), "no case 311-999999-ZZZZ")
        with open(os.path.join(rejected, "d-extra-key.json.reason")) as f:
            self.assertEqual(f.read().strip(), 'unknown key "crew"')
        self.assertEqual(sorted(os.listdir(self.in_dir)), ["notes.txt", "rejected"])
        shown = self.show()
        self.assertEqual((shown["status"], shown["work_order"]["status"]), ("active", "submitted"))
        self.assertEqual([e["kind"] for e in shown["events"]], ["created", "workorder-submitted"])

    def test_an_update_for_a_case_not_handed_over_and_one_applied_twice(self):
        self.drop("1.json", {"case": self.token, "status": "resolved"})
        self.cli("workorder", "sync")
        with open(os.path.join(self.in_dir, "rejected", "1.json.reason")) as f:
            self.assertEqual(f.read().strip(), f"case {self.token} was not handed to nexgen")
        self.assertEqual(self.show()["status"], "active")
        self.cli("case", "submit-workorder", self.token)
        update = {"case": self.token, "status": "in progress"}
        self.drop("2.json", update)
        self.cli("workorder", "sync")
        self.drop("2-again.json", update)  # the same bytes again (a crash before the move, a resend)
        out = json.loads(self.cli("workorder", "sync", "--json").out)
        self.assertEqual([o["action"] for o in out], ["already-applied"])
        self.assertEqual([e["kind"] for e in self.show()["events"]].count("workorder-updated"), 1)

    def test_the_document_is_not_left_behind_when_the_store_refuses(self):
        self.ok("case", "resolve", self.token, "--resolution", "done already")
        r = self.cli("case", "submit-workorder", self.token, code=2)
        self.assertIn("resolved", r.err)
        self.assertEqual(os.listdir(self.out_dir), [])
        r = self.run_cli("case", "submit-workorder", self.token)  # no [[workorder]] configured
        self.assertEqual(r.code, 2)
        self.assertIn("no work-order system is configured", r.err)

    def test_mail_on_a_case_with_the_work_order_system_is_linked_and_flagged(self):
        self.cli("case", "submit-workorder", self.token)
        mail = os.path.join(self.dir, "followup.eml")
        with open(mail, "w") as f:
            f.write(f"From: Ann Lee <ann@example.org>\r\nTo: 311PublicWorks@city.example\r\n"
                    f"Subject: RE: [{self.token}] still there\r\nMessage-ID: <f1@example.org>\r\n\r\nStill a hole.\r\n")
        self.cli("ingest", "--mailbox", "311PublicWorks@city.example", mail)
        shown = self.show()
        self.assertEqual((shown["status"], shown["needs_review"], len(shown["emails"])), ("active", True, 1))
        self.assertEqual(shown["emails"][0]["review_reason"],
                         f"mail on case {self.token} while its work order is with nexgen")

    def test_casemaild_applies_updates_on_its_own(self):
        self.cli("case", "submit-workorder", self.token)
        with open(self.config, "a") as f:
            f.write('[relay]\nenabled = false\n[daemon]\nworkorder_sync_interval = "1s"\n')
        log_path = os.path.join(self.dir, "casemaild.log")
        with open(log_path, "w") as log:
            daemon = subprocess.Popen([CASEMAILD, "--config", self.config], stderr=log, cwd=self.dir)
        self.addCleanup(lambda: daemon.poll() is None and daemon.kill())
        self.drop("0001.json", {"case": self.token, "status": "resolved", "external_id": "WO-9"})
        self.drop("0002.json", "{ broken")
        deadline = time.time() + 20
        while time.time() < deadline and self.show()["status"] != "resolved":
            time.sleep(0.1)
        daemon.terminate()
        daemon.wait(10)
        with open(log_path) as f:
            log = f.read()
        self.assertEqual(self.show()["status"], "resolved", log)
        self.assertIn("event=workorder-update file=0001.json action=resolved", log)
        self.assertIn('event=workorder-update file=0002.json action=rejected detail="not JSON"', log)
        self.assertEqual(os.listdir(os.path.join(self.in_dir, "processed")), ["0001.json"])
        self.assertEqual(self.show()["events"][-1]["actor"], "casemaild")
