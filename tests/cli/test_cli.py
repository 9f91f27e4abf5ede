"""End-to-end tests of the casemail admin CLI (store, contacts, queues, cases)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from casemail_harness import CasemailTestCase, nested_message  # noqa: E402

TOKEN = re.compile(r"^311-\d{6,}-[A-Z0-9]{4}$")


class InitTest(CasemailTestCase):
    def test_init_twice_is_safe(self):
        self.assertIn("schema version", self.ok("init").out)
        self.ok("contact", "add", "--email", "a@example.org", "--name", "A")
        self.ok("init")
        self.assertEqual(len(self.ok_json("contact", "list")), 1)

    def test_commands_refuse_a_missing_store(self):
        r = self.fails(2, "case", "list")
        self.assertIn("casemail init", r.err)
        self.assertFalse(os.path.exists(self.db), "a typo must not create an empty store")

    def test_missing_db_directory(self):
        r = self.fails(2, "--db", os.path.join(self.dir, "nope", "x.db"), "init", db=False)
        self.assertIn("does not exist", r.err)

    def test_db_from_env_and_config(self):
        env_db = os.path.join(self.dir, "env.db")
        self.ok("init", db=False, env={"CASEMAIL_DB": env_db})
        self.assertTrue(os.path.exists(env_db))
        cfg = os.path.join(self.dir, "casemail.toml")
        with open(cfg, "w") as f:
            f.write('[store]\npath = "from-config.db"\n')
        self.ok("--config", cfg, "init", db=False, env={"CASEMAIL_DB": env_db})
        self.assertTrue(os.path.exists(os.path.join(self.dir, "from-config.db")))

    def test_example_config_loads(self):
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "casemail.toml")
        self.ok("--config", example, "--db", self.db, "init", db=False)

    def test_parse_uses_configured_limits(self):
        cfg = os.path.join(self.dir, "tight.toml")
        with open(cfg, "w") as f:
            f.write("[limits]\nmax_depth = 2\n")
        deep = nested_message(3)
        self.ok("parse", "-", db=False, stdin=deep)
        r = self.fails(1, "--config", cfg, "parse", "-", db=False, stdin=deep)
        self.assertIn("limit of 2", r.err)

    def test_bad_config_names_key_and_line(self):
        cfg = os.path.join(self.dir, "bad.toml")
        with open(cfg, "w") as f:
            f.write('[store]\npath = "x.db"\ncolour = "blue"\n')
        r = self.fails(2, "--config", cfg, "init", db=False)
        self.assertIn("bad.toml:3: key 'store.colour': unknown key", r.err)

    def test_several_config_errors_one_per_line(self):
        cfg = os.path.join(self.dir, "bad2.toml")
        with open(cfg, "w") as f:
            f.write('[store]\ncolour = "blue"\n[limits]\nmax_depth = 0\n')
        r = self.run_cli("--config", cfg, "init", db=False)
        self.assertEqual(r.code, 2)
        lines = r.err.strip().splitlines()
        self.assertEqual(len(lines), 2, r.err)
        self.assertIn("bad2.toml:2: key 'store.colour': unknown key", lines[0])
        self.assertIn("bad2.toml:4: key 'limits.max_depth': must be between 1 and 256", lines[1])
        self.assertNotIn("?", r.err)

    def test_settings_table_readme_and_example_agree(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        keys = [s["key"] for s in self.ok_json("settings", db=False)]
        self.assertEqual(len(keys), len(set(keys)))
        with open(os.path.join(root, "README.md")) as f:
            readme = set(re.findall(r"^\| `([a-z_0-9]+\.[a-z_0-9]+)` \|", f.read(), re.M))
        self.assertEqual(readme, set(keys), "README's configuration table is not `casemail settings --markdown`")
        example, section = set(), None
        with open(os.path.join(root, "examples", "casemail.toml")) as f:
            for line in f:
                if m := re.match(r"^\[\[?([a-z_0-9]+)\]\]?\s*$", line):
                    section = m.group(1)
                elif section and (m := re.match(r"^#?\s*([a-z_0-9]+)\s*=", line.strip())):
                    example.add(f"{section}.{m.group(1)}")  # set or shown commented out
        self.assertEqual(example, set(keys), "examples/casemail.toml does not show every key")
        text = self.ok("settings", db=False).out
        self.assertIn("relay.max_connections", text)
        self.assertIn("integer (1-10000)", text)

    def test_help_and_usage_errors(self):
        r = self.run_cli("--help", db=False)
        self.assertEqual(r.code, 0)
        for word in ("init", "contact", "queue", "case"):
            self.assertIn(word, r.out)
        self.fails(2, "contact", "add", "--name", "no email")
        self.fails(2, "case", "list", "--status", "bogus")


class ContactsAndQueuesTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")

    def test_contacts_share_addresses(self):
        a = self.ok_json("contact", "add", "--email", "Family@Example.org", "--name", "Parent",
                         "--registered")["id"]
        b = self.ok_json("contact", "add", "--email", "family@example.org", "--name", "Teen",
                         "--registered")["id"]
        g = self.ok_json("contact", "add", "--email", "family@example.org", "--name", "Guest",
                         "--guest")["id"]
        self.ok("contact", "add", "--email", "other@example.org", "--name", "Other")
        listed = self.ok_json("contact", "list", "--email", "FAMILY@example.org")
        self.assertEqual([c["id"] for c in listed], [a, b, g])
        first = listed[0]
        for field in ("id", "name", "email", "is_guest", "is_registered", "archived"):
            self.assertIn(field, first)
        self.assertEqual(first["email"], "Family@Example.org")
        self.assertTrue(first["is_registered"])
        self.assertTrue(listed[2]["is_guest"])
        self.assertFalse(first["archived"])
        self.assertEqual(len(self.ok_json("contact", "list")), 4)

    def test_bad_email_is_refused(self):
        for bad in ("not-an-address", "a@b..c", "x@y.org\nBcc: z@w.org"):
            r = self.fails(2, "contact", "add", "--email", bad, "--name", "X")
            self.assertIn("invalid email address", r.err)
        self.assertEqual(self.ok_json("contact", "list"), [])

    def test_queues(self):
        self.ok("queue", "add", "--name", "City Clerk", "--mailbox", "311CityClerk@city.example")
        self.ok("queue", "add", "--name", "DWP", "--mailbox", "311DWP@city.example")
        queues = self.ok_json("queue", "list")
        self.assertEqual([q["name"] for q in queues], ["City Clerk", "DWP"])
        self.assertEqual(queues[1]["mailbox"], "311DWP@city.example")
        r = self.fails(2, "queue", "add", "--name", "DWP", "--mailbox", "other@city.example")
        self.assertIn("already exists", r.err)

    def test_accounts(self):
        pid = self.ok_json("account", "add", "--kind", "property", "--name", "12 Elm St",
                           "--address", "12 Elm St", "--parcel", "P-77", "--ward", "3")["id"]
        self.assertGreater(pid, 0)
        self.fails(2, "account", "add", "--kind", "person", "--name", "x")


class CasesTest(CasemailTestCase):
    def setUp(self):
        super().setUp()
        self.ok("init")
        self.ok("queue", "add", "--name", "Public Works", "--mailbox", "311PublicWorks@city.example")
        self.ok("queue", "add", "--name", "DWP", "--mailbox", "311DWP@city.example")
        self.customer = self.ok_json("contact", "add", "--email", "ann@example.org", "--name",
                                     "Ann", "--registered")["id"]
        self.property = self.ok_json("account", "add", "--kind", "property", "--name", "1 Main St")["id"]

    def add_case(self, title="Pothole on Main St", queue="Public Works"):
        return self.ok_json("case", "add", "--customer", self.customer, "--title", title,
                            "--queue", queue, "--property", self.property)["token"]

    def test_case_list_and_show(self):
        t1 = self.add_case()
        t2 = self.add_case("Water leak", "DWP")
        self.assertRegex(t1, TOKEN)
        self.assertNotEqual(t1, t2)
        listed = self.ok_json("case", "list")
        self.assertEqual([c["token"] for c in listed], [t1, t2])
        row = listed[0]
        for field in ("token", "title", "status", "queue", "customer_id", "created_at", "email_count"):
            self.assertIn(field, row)
        self.assertEqual(row["customer_id"], self.customer)
        self.assertEqual(row["email_count"], 0)
        self.assertEqual([c["token"] for c in self.ok_json("case", "list", "--queue", "DWP")], [t2])
        self.assertEqual(self.ok_json("case", "list", "--status", "resolved"), [])
        shown = self.ok_json("case", "show", t1.lower())
        self.assertEqual(shown["token"], t1)
        self.assertEqual(shown["emails"], [])
        self.assertEqual(shown["property_account_id"], self.property)
        self.assertEqual(shown["origin"], "phone")
        self.assertEqual(shown["events"][0]["kind"], "created")
        self.assertIn(t1, self.ok("case", "show", t1).out)

    def test_resolve_reactivate_and_read_only(self):
        t = self.add_case()
        self.ok("case", "resolve", t, "--resolution", "Filled on 3 Nov")
        shown = self.ok_json("case", "show", t)
        self.assertEqual(shown["status"], "resolved")
        self.assertEqual(shown["resolution"], "Filled on 3 Nov")
        r = self.fails(2, "case", "update", t, "--priority", "high")
        self.assertIn("reactivate", r.err)
        self.fails(2, "case", "resolve", t, "--resolution", "again")
        self.ok("case", "reactivate", t, "--actor", "agent:kim")
        shown = self.ok_json("case", "show", t)
        self.assertEqual(shown["status"], "active")
        self.assertIsNone(shown["resolution"])
        kinds = [e["kind"] for e in shown["events"]]
        self.assertEqual(kinds, ["created", "resolved", "reactivated"])
        self.assertIn("Filled on 3 Nov", shown["events"][2]["detail"])
        self.assertEqual(shown["events"][2]["actor"], "agent:kim")
        self.ok("case", "update", t, "--priority", "high")
        self.assertEqual(self.ok_json("case", "show", t)["priority"], "high")

    def test_audit_actor_without_user(self):
        import pwd
        t = self.add_case()
        self.ok("case", "resolve", t, "--resolution", "done", env={"USER": "", "SUDO_USER": ""})
        actor = self.ok_json("case", "show", t)["events"][-1]["actor"]
        self.assertEqual(actor, "cli:" + pwd.getpwuid(os.geteuid()).pw_name)

    def test_bad_requests_exit_2(self):
        r = self.fails(2, "case", "show", "311-999999-AAAA")
        self.assertIn("no case", r.err)
        self.fails(2, "case", "show", "garbage")
        self.fails(2, "case", "add", "--customer", 999, "--title", "x")
        self.fails(2, "case", "add", "--customer", self.customer, "--title", "x", "--queue", "Nope")
        # an account is context, never a customer nor in the wrong slot
        biz = self.ok_json("account", "add", "--kind", "business", "--name", "Deli")["id"]
        r = self.fails(2, "case", "add", "--customer", self.customer, "--title", "x",
                       "--property", biz)
        self.assertIn("not a property", r.err)
        self.assertEqual(self.ok_json("case", "list"), [])


if __name__ == "__main__":
    unittest.main()
