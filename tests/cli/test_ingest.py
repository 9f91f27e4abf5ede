"""End-to-end scenarios of `casemail ingest` with the real binary and a real SQLite store."""
import base64
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase, nested_message  # noqa: E402

PW = "311PublicWorks@city.example"
DWP = "311DWP@city.example"


def mail(frm, subject, msg_id=None, extra="", body="Hello from a citizen.", name="Citizen"):
    lines = [f"From: {name} <{frm}>", f"To: {PW}", f"Subject: {subject}"]
    if msg_id:
        lines.append(f"Message-ID: <{msg_id}>")
    lines.append("Date: Tue, 3 Nov 2026 10:00:00 +0000")
    text = "\r\n".join(lines) + "\r\n" + extra + "\r\n" + body + "\r\n"
    return text.encode()


class IngestTestCase(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", PW)
        self.ok("queue", "add", "--name", "DWP", "--mailbox", DWP)
        self.n = 0

    def write(self, raw):
        self.n += 1
        path = os.path.join(self.dir, f"msg{self.n:05d}.eml")
        with open(path, "wb") as f:
            f.write(raw)
        return path

    def ingest(self, raw, mailbox=PW, *extra):
        r = self.ok("ingest", "--mailbox", mailbox, "--json", self.write(raw), *extra)
        lines = [json.loads(l) for l in r.out.splitlines()]
        self.assertEqual(len(lines), 1)
        for field in ("file", "message_id", "action", "case", "customer_id", "reason"):
            self.assertIn(field, lines[0])
        return lines[0]

    def contact(self, email, name, *flags):
        return self.ok_json("contact", "add", "--email", email, "--name", name, *flags)["id"]

    def sql(self, query, *args):
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute(query, args).fetchall()
            con.commit()
            return rows
        finally:
            con.close()


class CitizenThreadTest(IngestTestCase):
    def test_new_then_reply_by_token_then_by_in_reply_to(self):
        ann = self.contact("ann@example.org", "Ann Lee", "--registered")
        first = self.ingest(mail("Ann@Example.org", "Pothole on Elm St", "t1@example.org"))
        self.assertEqual(first["action"], "created")
        self.assertEqual(first["customer_id"], ann)
        token = first["case"]
        second = self.ingest(mail("ann@example.org", f"RE: [{token}] Pothole on Elm St", "t2@example.org"))
        self.assertEqual((second["action"], second["case"]), ("linked", token))
        third = self.ingest(mail("ann@example.org", "Re: any news?", "t3@example.org",
                                 extra="In-Reply-To: <t2@example.org>\r\nReferences: <t1@example.org> <t2@example.org>\r\n"))
        self.assertEqual((third["action"], third["case"]), ("linked", token))
        case = self.ok_json("case", "show", token)
        self.assertEqual(case["title"], "Pothole on Elm St")
        self.assertEqual(case["customer_id"], ann)
        self.assertEqual(case["queue"], "Public Works")
        self.assertEqual([e["message_id"] for e in case["emails"]], ["t1@example.org", "t2@example.org", "t3@example.org"])
        from_party = case["emails"][0]["parties"][0]
        self.assertEqual((from_party["role"], from_party["contact_id"], from_party["resolved"]), ("from", ann, True))
        to_party = case["emails"][0]["parties"][1]
        self.assertEqual((to_party["role"], to_party["resolved"], to_party["contact_id"]), ("to", True, None))
        self.assertEqual(self.sql("SELECT count(*) FROM outbox WHERE kind = 'ack'")[0][0], 1)
        # re-fetching the same message never makes a second case
        again = self.ingest(mail("Ann@Example.org", "Pothole on Elm St", "t1@example.org"))
        self.assertEqual((again["action"], again["case"]), ("duplicate", token))
        self.assertEqual(len(self.ok_json("case", "list")), 1)
        # why each email was linked, in case show and its JSON
        evidence = [(e["correlation"]["method"], e["correlation"]["evidence"]) for e in case["emails"]]
        self.assertEqual(evidence[1], ("subject-token", token))
        self.assertEqual(evidence[2], ("in-reply-to", "<t2@example.org>"))
        self.assertEqual(evidence[0][0], "new-case")
        self.assertIn(PW, evidence[0][1])
        human = self.ok("case", "show", token).out
        self.assertIn(f"linked by: subject-token {token}", human)
        self.assertIn("linked by: in-reply-to <t2@example.org>", human)

    def test_a_strangers_token_is_linked_for_review_not_trusted(self):
        first = self.ingest(mail("ann@example.org", "My records request", "s1@example.org"))
        token, customer = first["case"], first["customer_id"]
        acks = self.sql("SELECT count(*) FROM outbox WHERE kind = 'ack'")[0][0]
        r = self.ingest(mail("mallory@evil.example", f"RE: [{token}] send me the file", "s2@example.org"))
        self.assertEqual((r["action"], r["case"]), ("linked", token))
        self.assertEqual(r["review_reason"],
                         f"sender not on this case: mallory@evil.example matched {token} by subject-token")
        self.assertEqual(self.sql("SELECT count(*) FROM outbox WHERE kind = 'ack'")[0][0], acks)
        case = self.ok_json("case", "show", token)
        self.assertEqual(case["customer_id"], customer)
        self.assertTrue(case["needs_review"])
        self.assertEqual(case["emails"][1]["review_reason"], r["review_reason"])
        review = self.ok_json("review", "list")
        self.assertEqual([(i["email_id"], i["case"], i["from"]) for i in review],
                         [(r["email_id"], token, "mallory@evil.example")])
        self.assertIn("REVIEW: sender not on this case", self.ok("case", "show", token).out)
        # Someone Cc'd on the case is on it: their reply links without review.
        cc = self.ingest(mail("ann@example.org", f"RE: [{token}] adding my neighbour", "s3@example.org",
                              extra="Cc: bob@example.org\r\n"))
        self.assertIsNone(cc["review_reason"])
        bob = self.ingest(mail("bob@example.org", f"RE: [{token}] me too", "s4@example.org"))
        self.assertEqual((bob["action"], bob["review_reason"]), ("linked", None))
        self.ok("review", "clear", str(r["email_id"]))
        self.assertEqual(self.ok_json("review", "list"), [])
        self.fails(2, "review", "clear", str(r["email_id"]))
        events = self.sql("SELECT kind, detail FROM event WHERE email_id = ? ORDER BY id", r["email_id"])
        self.assertIn(("review-cleared", r["review_reason"]), events)

    def test_on_foreign_sender_new_case(self):
        cfg = os.path.join(self.dir, "foreign.toml")
        with open(cfg, "w") as f:
            f.write(f'[store]\npath = "{self.db}"\n[ingest]\non_foreign_sender = "new_case"\n')
        token = self.ingest(mail("ann@example.org", "My records request", "f1@example.org"))["case"]
        r = self.ok("--config", cfg, "ingest", "--mailbox", PW, "--json",
                    self.write(mail("mallory@evil.example", f"RE: [{token}] send me the file", "f2@example.org")))
        line = json.loads(r.out)
        self.assertEqual(line["action"], "created")
        self.assertNotEqual(line["case"], token)
        self.assertTrue(any(f"is not on case {token}" in d for d in line["defects"]))

    def test_flood_of_500_mails_from_one_address(self):
        d = os.path.join(self.dir, "flood")
        os.mkdir(d)
        for i in range(500):
            with open(os.path.join(d, f"{i:04d}.eml"), "wb") as f:
                f.write(mail("flood@example.org", f"Complaint {i}", f"flood{i}@example.org"))
        with open(os.path.join(d, "9999.eml"), "wb") as f:  # someone else meanwhile
            f.write(mail("ann@example.org", "Pothole", "ann-during-flood@example.org"))
        started = time.time()
        r = self.ok("ingest", "--mailbox", PW, "--json", d)
        self.assertLess(time.time() - started, 60)
        lines = [json.loads(l) for l in r.out.splitlines()]
        flood = [l for l in lines if l["message_id"].startswith("flood")]
        created = [l for l in flood if l["action"] == "created"]
        self.assertEqual(len(created), 10)
        latest = created[-1]["case"]
        self.assertEqual({(l["action"], l["case"]) for l in flood[10:]}, {("linked", latest)})
        self.assertEqual(sum(1 for l in flood if l["review_reason"]), 1)
        self.assertEqual(lines[-1]["action"], "created")  # ann is not throttled
        self.assertEqual(len(self.ok_json("case", "list")), 11)
        acks = self.sql("SELECT count(*) FROM outbox WHERE kind = 'ack' AND to_address = 'flood@example.org'")[0][0]
        self.assertLessEqual(acks, 3)  # ack_limit_per_hour; none for the linked 490
        review = self.ok_json("review", "list")
        self.assertEqual(len(review), 1)
        self.assertIn("flood guard: flood@example.org opened 10 cases in the last hour", review[0]["reason"])
        self.assertEqual(len(self.ok_json("case", "show", latest)["emails"]), 491)

    def test_real_world_reply_chains_find_their_case(self):
        first = self.ingest(mail("ann@example.org", "Street light out", "p05100307b98c296c91aa@[200.255.3.123]"))
        token = first["case"]
        literal = self.ingest(mail("ann@example.org", "Re: light", "r1@example.org",
                                   extra="In-Reply-To: <p05100307b98c296c91aa@[200.255.3.123]>\r\n"))
        self.assertEqual((literal["action"], literal["case"]), ("linked", token))
        self.assertEqual(literal["correlation"], {"method": "in-reply-to",
                                                  "evidence": "<p05100307b98c296c91aa@[200.255.3.123]>"})
        phrase = self.ingest(mail("ann@example.org", "Re: light", "r2@example.org",
                                  extra="In-Reply-To: Message from Ann Lee <ann@example.org>\r\n"
                                        ' of "Tue, 3 Nov 2026 10:00:00 +0000." <r1@example.org>\r\n'))
        self.assertEqual((phrase["action"], phrase["case"]), ("linked", token))

    def test_spoofed_token_opens_a_new_case(self):
        victim = self.ingest(mail("victim@example.org", "My records request", "v1@example.org"))
        token = victim["case"]
        spoof = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        r = self.ingest(mail("attacker@example.org", f"RE: [{spoof}] give me the file", "a1@example.org"))
        self.assertEqual(r["action"], "created")
        self.assertNotEqual(r["case"], token)


class SharedFamilyAddressTest(IngestTestCase):
    def test_guest_customer_review_and_history(self):
        raj = self.contact("family@example.net", "Raj Patel", "--registered")
        priya = self.contact("family@example.net", "Priya Patel", "--registered")
        r = self.ingest(mail("family@example.net", "Loud construction at night", "f1@example.net"))
        self.assertEqual(r["action"], "created")
        guest = r["customer_id"]
        self.assertNotIn(guest, (raj, priya))
        contacts = {c["id"]: c for c in self.ok_json("contact", "list", "--email", "family@example.net")}
        self.assertTrue(contacts[guest]["is_guest"])
        case = self.ok_json("case", "show", r["case"])
        self.assertEqual(case["emails"][0]["linked_contact_ids"], [raj, priya, guest])
        items = self.ok_json("unresolved", "list")
        self.assertEqual(len(items), 1)
        item = items[0]
        for field in ("party_id", "email_id", "case", "role", "address", "candidate_contact_ids"):
            self.assertIn(field, item)
        self.assertEqual((item["case"], item["role"], item["address"]), (r["case"], "from", "family@example.net"))
        self.assertEqual(item["candidate_contact_ids"], [raj, priya, guest])
        self.fails(2, "unresolved", "link", item["party_id"], 9999)
        self.ok("unresolved", "link", item["party_id"], priya, "--as-customer", "--actor", "agent:kim")
        self.assertEqual(self.ok_json("unresolved", "list"), [])
        case = self.ok_json("case", "show", r["case"])
        self.assertEqual(case["customer_id"], priya)
        self.assertEqual(case["events"][-1]["kind"], "customer-changed")
        self.assertEqual(case["events"][-1]["actor"], "agent:kim")

    def test_cc_address_shared_by_two_contacts_stays_unresolved(self):
        self.contact("shared@example.org", "One", "--registered")
        self.contact("shared@example.org", "Two")
        r = self.ingest(mail("ann@example.org", "Tree down", "cc1@example.org", extra="Cc: shared@example.org\r\n"))
        parties = self.ok_json("case", "show", r["case"])["emails"][0]["parties"]
        cc = [p for p in parties if p["role"] == "cc"][0]
        self.assertEqual((cc["resolved"], cc["contact_id"], cc["candidate_count"]), (False, None, 2))


class GuestResubmitTest(IngestTestCase):
    def test_two_guests_no_dedup(self):
        a = self.ingest(mail("walkup@example.org", "Graffiti", "g1@example.org", name="Walk Up"))
        b = self.ingest(mail("walkup@example.org", "More graffiti", "g2@example.org", name="Walk Up"))
        self.assertEqual((a["action"], b["action"]), ("created", "created"))
        self.assertNotEqual(a["customer_id"], b["customer_id"])
        guests = self.ok_json("contact", "list", "--email", "walkup@example.org")
        self.assertEqual(len(guests), 2)
        self.assertTrue(all(g["is_guest"] and g["name"] == "Walk Up" for g in guests))
        # the second submission's history also reaches the first guest
        case_b = self.ok_json("case", "show", b["case"])
        self.assertEqual(case_b["emails"][0]["linked_contact_ids"], [a["customer_id"], b["customer_id"]])
        # after the person authenticates on the portal an admin merges the guests
        reg = self.contact("walkup@example.org", "Walk Up", "--registered")
        self.ok("contact", "merge", a["customer_id"], "--into", reg)
        self.ok("contact", "merge", b["customer_id"], "--into", reg)
        self.assertEqual({c["customer_id"] for c in self.ok_json("case", "list")}, {reg})
        self.fails(2, "contact", "merge", reg, "--into", reg)

    def test_archive_old_guests(self):
        for i in range(3):
            self.ingest(mail("often@example.org", f"Request {i}", f"often{i}@example.org"))
        self.sql("UPDATE contact SET created_at = '2020-01-01T00:00:00Z' WHERE id IN (1, 2)")
        r = self.ok("contact", "archive-guests", "--older-than", "30d")
        self.assertIn("2 guest contact(s) archived", r.out)
        active = [c["id"] for c in self.ok_json("contact", "list", "--email", "often@example.org") if not c["archived"]]
        self.assertEqual(active, [3])
        # the next submission links its history to the one remaining guest only
        nxt = self.ingest(mail("often@example.org", "Request 3", "often3@example.org"))
        case = self.ok_json("case", "show", nxt["case"])
        self.assertEqual(case["emails"][0]["linked_contact_ids"], [3, nxt["customer_id"]])
        self.fails(2, "contact", "archive-guests", "--older-than", "soon")


class AutoresponderLoopTest(IngestTestCase):
    def test_no_case_no_ack(self):
        r = self.ingest(mail("ann@example.org", "Out of office", "ooo@example.org", extra="Auto-Submitted: auto-replied\r\n"))
        self.assertEqual(r["action"], "ignored")
        self.assertIn("auto-reply", r["reason"])
        self.assertIsNone(r["case"])
        bounce = self.ingest(mail("MAILER-DAEMON@mx.example.org", "Undeliverable", "dsn@mx.example.org"))
        self.assertEqual(bounce["action"], "ignored")
        ours = self.ingest(mail(DWP, "Loop", "loop@example.org"))
        self.assertIn("own mailbox", ours["reason"])
        self.assertEqual(self.ok_json("case", "list"), [])
        self.assertEqual(self.sql("SELECT count(*) FROM outbox")[0][0], 0)
        self.assertEqual(self.sql("SELECT count(*) FROM email WHERE status = 'ignored'")[0][0], 3)  # raw kept

    def test_autoreply_to_a_case_links_without_ack(self):
        t = self.ingest(mail("ann@example.org", "Streetlight", "s1@example.org"))["case"]
        r = self.ingest(mail("ann@example.org", f"Automatic reply: [{t}] Streetlight", "s2@example.org",
                             extra="X-Autoreply: yes\r\n"))
        self.assertEqual((r["action"], r["case"]), ("linked", t))
        self.assertEqual(self.sql("SELECT count(*) FROM outbox")[0][0], 1)  # only the first ack


class ResolvedWindowTest(IngestTestCase):
    def resolved_case(self, days_ago):
        token = self.ingest(mail("ann@example.org", "Water leak", f"w{days_ago}@example.org"))["case"]
        self.ok("case", "resolve", token, "--resolution", "Valve replaced")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days_ago * 86400))
        self.sql('UPDATE "case" SET resolved_at = ? WHERE token = ?', stamp, token)
        return token

    def test_inside_the_window_links_and_flags(self):
        token = self.resolved_case(13)
        r = self.ingest(mail("ann@example.org", f"RE: [{token}] still leaking", "w13r@example.org"))
        self.assertEqual((r["action"], r["case"]), ("linked", token))
        case = self.ok_json("case", "show", token)
        self.assertEqual(case["status"], "resolved")
        self.assertTrue(case["needs_review"])

    def test_after_the_window_opens_a_follow_up_case(self):
        token = self.resolved_case(15)
        r = self.ingest(mail("ann@example.org", f"RE: [{token}] leaking again", "w15r@example.org"))
        self.assertEqual(r["action"], "created")
        self.assertNotEqual(r["case"], token)
        parent_id = self.sql('SELECT id FROM "case" WHERE token = ?', token)[0][0]
        self.assertEqual(self.ok_json("case", "show", r["case"])["parent_case_id"], parent_id)
        self.assertFalse(self.ok_json("case", "show", token)["needs_review"])

    def test_window_and_policy_from_config(self):
        cfg = os.path.join(self.dir, "casemail.toml")
        with open(cfg, "w") as f:
            f.write('[ingest]\nresolved_window = "30d"\non_resolved = "reactivate"\n')
        token = self.resolved_case(20)
        r = self.ok("--config", cfg, "ingest", "--mailbox", PW, "--json",
                    self.write(mail("ann@example.org", f"RE: [{token}]", "cfg@example.org")))
        self.assertEqual(json.loads(r.out)["action"], "linked")
        self.assertEqual(self.ok_json("case", "show", token)["status"], "active")


class ReusedMessageIdTest(IngestTestCase):
    """Scanners, phone clients and ticketing systems reuse Message-IDs; other helpdesks lost mail
    that way. Only the same message is a duplicate."""

    def test_a_different_message_with_a_known_id_becomes_its_own_case(self):
        scan = mail("scanner@city.example", "Scanned document", "1@scanner", body="Page 1.", name="Scanner")
        tree = (b"From: Dana Cruz <dana@example.org>\r\nTo: " + PW.encode() +
                b"\r\nSubject: tree down on Pine Ave\r\nDate: Tue, 3 Nov 2026 11:30:00 +0000\r\n"
                b"Message-ID: <1@scanner>\r\n\r\nA tree is down across Pine Ave.\r\n")
        first = self.ingest(scan)
        second = self.ingest(tree)
        self.assertEqual((first["action"], second["action"]), ("created", "created"))
        self.assertNotEqual(first["case"], second["case"])
        self.assertTrue(any("Message-ID reused by a different message" in d for d in second["defects"]), second)
        self.assertEqual(self.ok_json("case", "show", second["case"])["title"], "tree down on Pine Ave")
        # the same messages again, re-fetched or delivered to a second 311 mailbox: duplicates
        self.assertEqual(self.ingest(tree)["action"], "duplicate")
        copy = self.ingest(b"Received: from mx2.city.example\r\nDelivered-To: " + DWP.encode() + b"\r\n" + tree, DWP)
        self.assertEqual((copy["action"], copy["case"]), ("duplicate", second["case"]))
        self.assertEqual(self.ingest(scan)["case"], first["case"])
        self.assertEqual(len(self.ok_json("case", "list")), 2)
        # a reply naming the reused id is not given to either case
        reply = self.ingest(mail("dana@example.org", "Re: tree down on Pine Ave", "r1@example.org",
                                 extra="In-Reply-To: <1@scanner>\r\n"))
        self.assertEqual(reply["action"], "created")
        self.assertNotIn(reply["case"], (first["case"], second["case"]))
        show = self.ok_json("case", "show", reply["case"])
        self.assertTrue(show["needs_review"])
        self.assertEqual(self.sql("SELECT count(*) FROM outbox o JOIN \"case\" c ON c.id = o.case_id "
                                  "WHERE c.token = ?", reply["case"])[0][0], 0)  # no receipt for it


class QuarantineAndBulkTest(IngestTestCase):
    def test_quarantine_list_and_retry(self):
        cfg = os.path.join(self.dir, "tight.toml")
        with open(cfg, "w") as f:
            f.write("[limits]\nmax_depth = 2\n")
        deep = nested_message(4)
        path = self.write(deep.encode())
        r = json.loads(self.ok("--config", cfg, "ingest", "--mailbox", PW, "--json", path).out)
        self.assertEqual(r["action"], "quarantined")
        self.assertIn("nesting deeper than the limit of 2", r["reason"])
        listed = self.ok_json("quarantine", "list")
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["size"], len(deep))
        self.assertEqual(self.ok_json("--config", cfg, "quarantine", "retry", listed[0]["id"])["action"], "quarantined")
        released = self.ok_json("quarantine", "retry", listed[0]["id"])  # default limits
        self.assertEqual(released["action"], "created")
        self.assertEqual(self.ok_json("quarantine", "list"), [])
        self.fails(2, "quarantine", "retry", listed[0]["id"])

    def test_a_directory_of_1000_messages(self):
        d = os.path.join(self.dir, "inbox")
        os.mkdir(d)
        for i in range(1000):
            subject = f"Request {i}" if i % 10 else "RE: [311-000001-ZZZZ] spoof"
            with open(os.path.join(d, f"{i:04d}.eml"), "wb") as f:
                f.write(mail(f"c{i}@example.org", subject, f"bulk{i}@example.org"))
        r = self.ok("ingest", "--mailbox", PW, "--json", d)
        lines = [json.loads(l) for l in r.out.splitlines()]
        self.assertEqual(len(lines), 1000)
        self.assertEqual({l["action"] for l in lines}, {"created"})
        self.assertRegex(r.err, r"ingested 1000 message\(s\) in [0-9.]+ s \([0-9]+ msgs/s\): 1000 created, 0 linked")
        self.assertEqual(len(self.ok_json("case", "list")), 1000)
        again = self.ok("ingest", "--mailbox", PW, d)
        self.assertIn("0 created, 0 linked, 1000 duplicate", again.err)

    def test_unknown_mailbox_and_unreadable_file(self):
        r = self.fails(2, "ingest", "--mailbox", "nobody@city.example", self.write(mail("a@example.org", "x", "q@x")))
        self.assertIn("no queue has the mailbox", r.err)
        r = self.run_cli("ingest", "--mailbox", PW, "--json", os.path.join(self.dir, "missing.eml"))
        self.assertEqual(r.code, 1)
        self.assertEqual(json.loads(r.out)["action"], "error")

    def test_stdin(self):
        r = self.ok("ingest", "--mailbox", DWP, "--json", "-", stdin=mail("x@example.org", "Leak", "stdin@x").decode())
        line = json.loads(r.out)
        self.assertEqual((line["action"], line["file"]), ("created", "-"))
        self.assertEqual(self.ok_json("case", "list", "--queue", "DWP")[0]["token"], line["case"])


class AttachmentTest(IngestTestCase):
    def test_case_show_lists_attachments_and_get_decodes_them(self):
        data = bytes((i * 7) % 256 for i in range(50000))
        permit = base64.encodebytes(data).decode().replace("\n", "\r\n")
        body = ("--b\r\nContent-Type: text/plain\r\n\r\nPhotos attached.\r\n"
                "--b\r\nContent-Type: application/pdf; name=\"permit.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + permit +
                "--b\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=notes.txt\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\nthe fence at 12 Elm St, north side=\r\n, near the gate\r\n"
                "--b\r\nContent-Type: application/octet-stream; name=\"run.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b--")
        r = self.ingest(mail("ann@example.org", "Fence permit", "att1@example.org",
                             extra='Content-Type: multipart/mixed; boundary="b"\r\n', body=body))
        case = self.ok_json("case", "show", r["case"])
        email = case["emails"][0]
        files = email["attachments"]
        self.assertEqual([(f["index"], f["filename"], f["content"]) for f in files],
                         [(1, "permit.pdf", "reference"), (2, "notes.txt", "reference"), (3, "run.exe", "blocked")])
        self.assertEqual(files[0]["size"], len(data))
        self.assertEqual(files[0]["sha256"], hashlib.sha256(data).hexdigest())
        human = self.ok("case", "show", r["case"]).out
        self.assertIn("attachment 1: permit.pdf (application/pdf, 50000 bytes, reference)", human)

        out = os.path.join(self.dir, "permit.pdf")
        got = self.ok("attachment", "get", email["id"], 1, "-o", out)
        self.assertIn(f"50000 bytes written to {out}", got.err)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        self.assertIn("cannot create", self.fails(2, "attachment", "get", email["id"], 1, "-o", out).err)
        self.assertEqual(self.ok("attachment", "get", email["id"], 2).out, "the fence at 12 Elm St, north side, near the gate")
        self.assertIn("blocked type", self.fails(2, "attachment", "get", email["id"], 3).err)
        self.assertIn("has no attachment 4", self.fails(2, "attachment", "get", email["id"], 4).err)
        # Stored once: the raw message holds the attachments, no decoded copies beside it.
        self.assertEqual(self.sql("SELECT count(*) FROM attachment_blob"), [(0,)])
