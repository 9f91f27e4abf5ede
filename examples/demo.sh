#!/usr/bin/env bash
# casemail demo: installs dependencies, builds, and runs casemail on a fresh embedded store in
# ./demo-run/ (created next to the checkout root; delete it to start over).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
.ci/install-deps
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bin="$root/build/daemon/casemail"

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
ann=$(cm contact add --email ann.lee@example.org --name "Ann Lee" --registered --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cm contact add --email family@example.net --name "Raj Patel" --registered
cm contact add --email family@example.net --name "Priya Patel" --registered
cm contact list

echo "== a property gives context to a case, never identity"
lot=$(cm account add --kind property --name "1200 Main St" --address "1200 Main St" --parcel 5512-004 --ward 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "== cases taken by phone"
t1=$(cm case add --customer "$ann" --title "Pothole outside 1200 Main St" --queue "Public Works" --property "$lot" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
t2=$(cm case add --customer "$ann" --title "Low water pressure" --queue DWP --origin walk-in --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
cm case resolve "$t2" --resolution "Valve replaced on 21 Nov"
cm case list
echo
cm case show "$t1"
echo
echo "demo store: $CASEMAIL_DB   (try: CASEMAIL_DB=$CASEMAIL_DB $bin case list --json)"
