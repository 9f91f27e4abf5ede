#!/usr/bin/env bash
# casemail demo: installs dependencies, builds, and runs casemail on a fresh embedded store in
# ./demo-run/ (created next to the checkout root; delete it to start over).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
.ci/install-deps
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bin="$root/build/bin/casemail"

run="$root/demo-run"
rm -rf "$run"
mkdir -p "$run"
export CASEMAIL_DB="$run/casemail.db"
cm() { "$bin" "$@"; }

echo "== store"
cm init
echo "== the three 311 team queues"
cm queue add --name "City Clerk"   --mailbox 311CityClerk@city.example   --display-name "City Clerk 311"
cm queue add --name "DWP"          --mailbox 311DWP@city.example         --display-name "Water and Power 311"
cm queue add --name "Public Works" --mailbox 311PublicWorks@city.example --display-name "Public Works 311"
cm queue list

echo "== contacts: a registered citizen, and a family sharing one address"
cm contact add --email ann.lee@example.org --name "Ann Lee" --registered
cm contact add --email family@example.net --name "Raj Patel" --registered
cm contact add --email family@example.net --name "Priya Patel" --registered
cm contact list

echo "== ingest the sample mail of each 311 mailbox (examples/mail/)"
cm ingest --mailbox 311PublicWorks@city.example "$root/examples/mail/publicworks"
cm ingest --mailbox 311DWP@city.example         "$root/examples/mail/dwp"
cm ingest --mailbox 311CityClerk@city.example   "$root/examples/mail/cityclerk"  # one is quarantined on purpose
echo
echo "== re-ingesting the same mail changes nothing"
cm ingest --mailbox 311PublicWorks@city.example "$root/examples/mail/publicworks" >/dev/null

echo
echo "== cases"
cm case list
echo
echo "== the pothole thread: the reply found its case by In-Reply-To"
pothole=$(cm case list --json | python3 -c 'import json,sys; print([c["token"] for c in json.load(sys.stdin) if c["title"].startswith("Pothole")][0])')
cm case show "$pothole"
echo
echo "== addresses shared by several registered contacts wait for review"
cm unresolved list
echo
echo "== mail that could not be parsed is kept in quarantine with the reason"
cm quarantine list
echo
echo "== a case taken by phone; a property account gives context, never identity"
lot=$(cm account add --kind property --name "1200 Main St" --address "1200 Main St" --parcel 5512-004 --ward 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
phone=$(cm case add --customer 1 --title "Streetlight out at 1200 Main St" --queue "Public Works" --property "$lot" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
cm case resolve "$phone" --resolution "Lamp replaced on 20 Nov"
cm case list --status resolved
echo
echo "demo store: $CASEMAIL_DB   (try: CASEMAIL_DB=$CASEMAIL_DB $bin case list --json)"
echo
echo "== the daemon: casemaild polling a local Dovecot, the relay and the outbox (examples/demo_daemon.py)"
python3 "$root/examples/demo_daemon.py" "$root/build" "$run/daemon"
