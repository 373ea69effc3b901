#!/usr/bin/env bash
# Load test of the query API on loopback: 50 connections, wrk (Debian package), sample data, Release build.
# Usage: bench/load.sh [seconds]   (needs wrk: apt-get install -y wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
port=5096
work=$(mktemp -d)
cp -r config "$work/"
dotnet build -c Release src/FinNews >/dev/null
exe="dotnet $PWD/src/FinNews/bin/Release/net10.0/finnews.dll"
(cd "$work" && $exe ingest >/dev/null && $exe brief >/dev/null)
(cd "$work" && exec $exe serve --urls "http://127.0.0.1:$port" >"$work/serve.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
echo "nproc $(nproc); loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for path in "/api/v1/briefings/latest" "/api/v1/search?q=oil%20prices%20crude&limit=10"; do
  wrk -t2 -c50 -d5s "http://127.0.0.1:$port$path" >/dev/null   # warm-up
  echo "== $path"
  wrk -t2 -c50 -d"${secs}s" --latency "http://127.0.0.1:$port$path" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in"
done
echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
