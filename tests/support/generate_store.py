"""A store filled straight through SQLite with cases whose answers are known: for the report
tests and bench/bench_report.py. The store is made by `casemail init` first (the schema is
casemail's); this only adds rows."""
import datetime
import random
import sqlite3

WARDS = ["Ward 1", "Ward 2", "Ward 3", "Ward 4"]
QUEUES = ["City Clerk", "DWP", "Public Works"]
CATEGORIES = ["Streets", "Water", "Trash", None]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(db, n, seed=7, start=1767225600):  # 2026-01-01T00:00:00Z
    """n cases over 2026 (UTC); returns one dict per case with what a report should count."""
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO contact(full_name, email, email_norm, is_registered, created_at) "
                "VALUES ('Resident', 'r@example.org', 'r@example.org', 1, '2026-01-01T00:00:00Z')")
    contact = con.execute("SELECT max(id) FROM contact").fetchone()[0]
    queues = {}
    for q in QUEUES:
        con.execute("INSERT OR IGNORE INTO queue(name, mailbox, mailbox_norm, created_at) VALUES (?, ?, ?, ?)",
                    (q, q.replace(" ", "") + "@city.example", q.replace(" ", "").lower() + "@city.example",
                     "2026-01-01T00:00:00Z"))
        queues[q] = con.execute("SELECT id FROM queue WHERE name = ?", (q,)).fetchone()[0]
    places = []
    for i in range(40):
        ward = WARDS[i % len(WARDS)]
        con.execute("INSERT INTO account(kind, name, civic_address, ward, created_at) VALUES ('property', ?, ?, ?, ?)",
                    (f"{i + 1} Elm St", f"{i + 1} Elm St, Springfield", ward, "2026-01-01T00:00:00Z"))
        places.append((con.execute("SELECT max(id) FROM account").fetchone()[0], f"{i + 1} Elm St", ward))
    seq = con.execute("SELECT value FROM sequence WHERE name = 'case_token'").fetchone()[0]
    cases = []
    for i in range(n):
        seq += 1
        created = start + rng.randrange(0, 365 * 86400)
        place = rng.choice(places + [None])
        queue = rng.choice(QUEUES)
        status = rng.choice(["active", "resolved", "resolved", "resolved", "cancelled"])
        response = rng.randrange(60, 3 * 86400) if rng.random() < 0.8 else None
        resolution = rng.randrange(3600, 30 * 86400) if status == "resolved" else None
        case = {"token": f"311-{seq:06d}-GEN{i % 10}", "created": created, "queue": queue, "status": status,
                "ward": place[2] if place else None, "property": place[1] if place else None,
                "category": rng.choice(CATEGORIES), "response": response, "resolution": resolution,
                "priority": rng.choice(["low", "normal", "high", "urgent"]), "breached": rng.random() < 0.2}
        con.execute(
            'INSERT INTO "case"(token, token_sequence, title, status, customer_contact_id, property_account_id, origin, '
            'priority, queue_id, category, first_response_at, resolved_at, resolution, created_at, updated_at) '
            "VALUES (?, ?, 'Generated', ?, ?, ?, 'email', ?, ?, ?, ?, ?, ?, ?, ?)",
            (case["token"], seq, status, contact, place[0] if place else None, case["priority"], queues[queue],
             case["category"], iso(created + response) if response else None,
             iso(created + resolution) if resolution else None, "done" if resolution else None, iso(created),
             iso(created)))
        if case["breached"]:
            cid = con.execute("SELECT max(id) FROM \"case\"").fetchone()[0]
            con.execute("INSERT INTO sla_alert(case_id, clock, state, raised_at) VALUES (?, 'first_response', "
                        "'breached', ?)", (cid, iso(created + 3600)))
        cases.append(case)
    con.execute("UPDATE sequence SET value = ? WHERE name = 'case_token'", (seq,))
    con.commit()
    con.close()
    return cases


def percentile(values, p):
    """Nearest rank, as casemail's reports count."""
    if not values:
        return None
    values = sorted(values)
    rank = max(1, -(-p * len(values) // 100))
    return values[rank - 1]
