"""casemail export open311 on real cases: GeoReport v2 service requests in JSON and XML with the
spec's fields and types, the category mapped to a service, the expected time from the SLA, and
nothing of the citizens: no names, addresses or email text; confidential cases left out."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase  # noqa: E402

PW = "311PublicWorks@city.example"
# GeoReport v2 GET service_requests: every field a request carries (lat/long and media_url are
# not kept by casemail; service_notice and account data are not published).
REQUIRED = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
            "agency_responsible", "requested_datetime", "updated_datetime"}
OPTIONAL = {"expected_datetime", "address"}
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
SECRETS = ["Ann Lee", "ann@example.org", "Bob Stone", "bob@example.org", "my bedroom window", "555-0100",
           "99 Secret Lane"]


class Open311Test(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.config = os.path.join(self.dir, "casemail.toml")
        with open(self.config, "w") as f:
            f.write(f'[store]\npath = "{self.db}"\n[business_hours]\nhours = "always"\ntimezone = "UTC"\n'
                    f'[[sla]]\nname = "all"\nresolve_within = "72h"\n'
                    f'[[open311_service]]\ncategory = "Streets"\ncode = "POTHOLE"\nname = "Pothole"\n'
                    f'[[open311_service]]\ncategory = "Trash"\ncode = "TRASH-MISSED"\nname = "Missed trash"\n')
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", PW)
        self.ok("contact", "add", "--email", "ann@example.org", "--name", "Ann Lee", "--registered")
        place = self.ok_json("account", "add", "--kind", "property", "--name", "Elm & 3rd", "--address",
                             "Elm St & 3rd Ave")["id"]
        self.tokens = []
        for n, (sender, subject, body) in enumerate([
                ("Ann Lee <ann@example.org>", "Pothole near my bedroom window", "Call me at 555-0100."),
                ("Bob Stone <bob@example.org>", "Trash not picked up at 99 Secret Lane", "Again!"),
                ("Ann Lee <ann@example.org>", "Private matter", "About my neighbour."),
                ("Bob Stone <bob@example.org>", "Graffiti", "On the bridge.")]):
            path = os.path.join(self.dir, f"{n}.eml")
            with open(path, "w") as f:
                f.write(f"From: {sender}\r\nTo: {PW}\r\nSubject: {subject}\r\nMessage-ID: <o{n}@example.org>\r\n\r\n{body}\r\n")
            self.tokens.append(json.loads(self.ok("ingest", "--mailbox", PW, path, "--json").out.splitlines()[0])["case"])
        pothole, trash, private, graffiti = self.tokens
        self.cli("case", "update", pothole, "--category", "Streets", "--property", str(place))
        self.cli("case", "update", trash, "--category", "Trash", "--anonymous", "true")
        self.cli("case", "update", private, "--confidential", "true")
        self.cli("case", "resolve", trash, "--resolution", "Bob Stone's bin emptied", "--type", "Problem Solved")

    def cli(self, *args):
        return self.ok("--config", self.config, *args, db=False)

    def by_id(self, requests):
        return {r["service_request_id"]: r for r in requests}

    def test_json_fields_types_services_and_privacy(self):
        out = self.cli("export", "open311").out
        requests = json.loads(out)
        pothole, trash, private, graffiti = self.tokens
        self.assertEqual(sorted(self.by_id(requests)), sorted([pothole, trash, graffiti]))  # confidential left out
        for r in requests:
            self.assertTrue(REQUIRED <= set(r) <= REQUIRED | OPTIONAL, sorted(r))
            self.assertTrue(all(isinstance(v, str) for v in r.values()), r)
            self.assertIn(r["status"], ("open", "closed"))
            for k in ("requested_datetime", "updated_datetime", "expected_datetime"):
                if k in r:
                    self.assertRegex(r[k], W3C_DATETIME)
        for secret in SECRETS:
            self.assertNotIn(secret.lower(), out.lower())
        p, t, g = (self.by_id(requests)[x] for x in (pothole, trash, graffiti))
        self.assertEqual((p["service_code"], p["service_name"], p["status"], p["address"]),
                         ("POTHOLE", "Pothole", "open", "Elm St & 3rd Ave"))
        self.assertEqual((t["service_code"], t["status"], t["status_notes"]), ("TRASH-MISSED", "closed", "Resolved: Problem Solved"))
        self.assertNotIn("expected_datetime", t)  # closed: nothing is expected any more
        self.assertEqual((g["service_code"], g["service_name"]), ("other", "Other"))
        self.assertEqual(p["agency_responsible"], "Public Works")
        self.assertEqual(p["description"], "Pothole request received by email")
        import datetime
        parse = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(parse(p["expected_datetime"]) - parse(p["requested_datetime"]), datetime.timedelta(hours=72))

    def test_xml_is_the_same_requests(self):
        as_json = self.by_id(json.loads(self.cli("export", "open311").out))
        out = os.path.join(self.dir, "requests.xml")
        self.cli("export", "open311", "--format", "xml", "--out", out)
        root = ET.parse(out).getroot()
        self.assertEqual(root.tag, "service_requests")
        as_xml = {}
        for request in root.findall("request"):
            fields = {child.tag: child.text or "" for child in request}
            as_xml[fields["service_request_id"]] = fields
        self.assertEqual(as_xml, as_json)
        self.assertFalse(os.path.exists(out + ".tmp"))

    def test_since(self):
        self.assertEqual(json.loads(self.cli("export", "open311", "--since", "2199-12-31").out), [])
        self.fails(2, "--config", self.config, "export", "open311", "--since", "2999-01-01", db=False)  # past 2262
        self.assertEqual(len(json.loads(self.cli("export", "open311", "--since", "2000-01-01").out)), 3)
        self.fails(2, "--config", self.config, "export", "open311", "--since", "yesterday", db=False)
