#!/usr/bin/env bash
# Whole-process start-up of `feed parse` on one small file, beside python feedparser and node rss-parser doing the
# same (read the file, parse it, print titles), under hyperfine, in one run:
#
#   bash bench/peers/startup.sh [--runs 30] [--file config/samples/copperline-financial.rss.xml]
#
# Timed: the `dotnet build` executable (JIT), the `dotnet publish` output (ReadyToRun, as the Dockerfile builds it;
# published to a temporary folder), `finnews --help` from the publish output, and the two peers. hyperfine -N (no
# shell), 3 warm-up runs each; it prints means ± σ and the ratios, this script adds medians and the load average.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs=30 file="$repo/config/samples/copperline-financial.rss.xml"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --file) file="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v hyperfine >/dev/null || { echo "hyperfine missing: apt-get install -y hyperfine" >&2; exit 3; }
python=/usr/bin/python3
"$python" -c 'import feedparser' 2>/dev/null || { echo "python feedparser missing: apt-get install -y python3-feedparser" >&2; exit 3; }
if [[ ! -d "$here/node_modules/rss-parser" ]]; then
  (cd "$here" && npm install --no-audit --no-fund --no-save rss-parser@3 >/dev/null)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build -c Release "$repo/src/FinNews" -v q -nologo >/dev/null
dotnet publish -c Release "$repo/src/FinNews" -o "$work/publish" -v q -nologo >/dev/null
built="$repo/src/FinNews/bin/Release/net10.0/finnews"
published="$work/publish/finnews"

cat > "$work/fp.py" <<'PY'
import sys, feedparser
d = feedparser.parse(open(sys.argv[1], "rb").read())
print(d.feed.get("title"), len(d.entries))
for e in d.entries:
    print("-", e.get("title"))
PY
cat > "$work/rp.js" <<'JS'
const fs = require("fs");
const Parser = require("rss-parser");
new Parser().parseString(fs.readFileSync(process.argv[2], "utf8")).then(f => {
  console.log(f.title, f.items.length);
  for (const i of f.items) console.log("-", i.title);
});
JS

echo "file: $file ($(stat -c %s "$file") bytes); nproc $(nproc); .NET $(dotnet --version); python $("$python" -c 'import platform; print(platform.python_version())'); node $(node --version)"
echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
  -n "finnews feed parse (dotnet build, JIT)" "$built feed parse $file" \
  -n "finnews feed parse (dotnet publish, ReadyToRun)" "$published feed parse $file" \
  -n "finnews --help (ReadyToRun)" "$published --help" \
  -n "python feedparser" "$python $work/fp.py $file" \
  -n "node rss-parser" "env NODE_PATH=$here/node_modules node $work/rp.js $file"
echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$work/h.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: statistics.median(r["times"]) for r in results}
r2r = next(v for k, v in med.items() if "ReadyToRun" in k and "help" not in k)
print("| command | median s | min s | ReadyToRun feed parse ÷ this |")
print("|---|---|---|---|")
for r in results:
    print("| %s | %.3f | %.3f | %.2f× |" % (r["command"], med[r["command"]], min(r["times"]), r2r / med[r["command"]]))
PY
