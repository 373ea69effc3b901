#!/usr/bin/env bash
# Runs the four feed parsers on the same files and prints MB/s, items/s and ratios (FeedParser's rate ÷ each peer's).
#
#   bash bench/peers/run.sh [--runs 10] [--warmup 3] [--folder ../shared/corpora/feeds]
#
# Peers: FinNews FeedParser and CodeHollow.FeedReader 2.1.1 (bench/FinNews.Bench, Release), python feedparser
# (Debian: apt-get install -y python3-feedparser; run with /usr/bin/python3), node rss-parser (npm, installed into
# bench/peers/node_modules, which git ignores). First every runner says which files it can read ("probe"); the timed
# passes then use only the files all four read, so every parser gets the same bytes. One invocation, medians of the
# timed passes; machine conditions are printed with the table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs=10 warmup=3 folder="$repo/../shared/corpora/feeds"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --folder) folder="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3
"$python" -c 'import feedparser' 2>/dev/null || { echo "python feedparser missing: apt-get install -y python3-feedparser" >&2; exit 3; }
if [[ ! -d "$here/node_modules/rss-parser" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --no-save rss-parser@3 >/dev/null)
fi
dotnet build -c Release "$repo/bench/FinNews.Bench" -v q -nologo >/dev/null
bench=("dotnet" "$repo/bench/FinNews.Bench/bin/Release/net10.0/FinNews.Bench.dll")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
find "$folder" -type f ! -name '*.json' ! -name '*.md' | sort > "$work/all.txt"

# Which files each parser reads.
{
  "${bench[@]}" peers --list "$work/all.txt" --probe true
  "$python" "$here/feedparser_bench.py" "$work/all.txt" --probe
  NODE_PATH="$here/node_modules" node "$here/rssparser_bench.js" "$work/all.txt" --probe
} > "$work/probe.jsonl"
"$python" - "$work/probe.jsonl" "$work/common.txt" <<'PY'
import json, sys
probes = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
common = set(probes[0]["ok"])
for p in probes[1:]:
    common &= set(p["ok"])
for p in probes:
    if p["failed"]:
        print("%-11s cannot read: %s" % (p["parser"], "; ".join(p["failed"])))
open(sys.argv[2], "w").write("\n".join(sorted(common)) + "\n")
print("timed on the %d files all four read" % len(common))
PY

echo "machine: nproc $(nproc), $(dotnet --version 2>/dev/null | sed 's/^/.NET SDK /'), python $("$python" -c 'import platform; print(platform.python_version())'), node $(node --version), loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
{
  "${bench[@]}" peers --list "$work/common.txt" --runs "$runs" --warmup "$warmup"
  "$python" "$here/feedparser_bench.py" "$work/common.txt" --runs "$runs" --warmup "$warmup"
  NODE_PATH="$here/node_modules" node "$here/rssparser_bench.js" "$work/common.txt" --runs "$runs" --warmup "$warmup"
} > "$work/timed.jsonl"
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$work/timed.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours = next(r for r in rows if r["parser"] == "finnews")
print("| parser | files | MB | items | MB/s (median) | items/s (median) | FeedParser ÷ peer (MB/s) | FeedParser ÷ peer (items/s) |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    name = r["parser"] + (" " + r["version"] if "version" in r else "")
    print("| %s | %d | %.2f | %d | %.1f | %s | %.2f× | %.2f× |" % (
        name, r["files"], r["bytes"] / 1e6, r["items"], r["mbps"], format(int(r["items_per_s"]), ","),
        ours["mbps"] / r["mbps"], ours["items_per_s"] / r["items_per_s"]))
PY
