#!/usr/bin/python3
"""Times python feedparser (Debian's python3-feedparser) on the files listed in LIST, as bench/peers/run.sh asks.

usage: feedparser_bench.py LIST [--probe] [--runs N] [--warmup N]
Prints one JSON object: with --probe the files it reads ({"ok": [...], "failed": [...]}), otherwise the median MB/s
and items/s over N timed passes (each pass parses every file from bytes already in memory).
"""
import json
import statistics
import sys
import time

import feedparser


def main(argv):
    list_file = argv[1]
    probe = "--probe" in argv
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 10
    warmup = int(argv[argv.index("--warmup") + 1]) if "--warmup" in argv else 3
    paths = [line.strip() for line in open(list_file, encoding="utf-8") if line.strip()]
    files = [(p, open(p, "rb").read()) for p in paths]
    if probe:
        ok, failed = [], []
        for path, data in files:
            result = feedparser.parse(data)
            # feedparser never raises: a document it cannot read comes back with bozo set and no version.
            if result.get("version") or result.entries:
                ok.append(path)
            else:
                failed.append("%s: %s" % (path.rsplit("/", 1)[-1], type(result.get("bozo_exception")).__name__))
        print(json.dumps({"parser": "feedparser", "ok": ok, "failed": failed}))
        return
    total_bytes = sum(len(d) for _, d in files)
    mbps, ips, items = [], [], 0
    for run in range(-warmup, runs):
        items = 0
        start = time.perf_counter()
        for _, data in files:
            items += len(feedparser.parse(data).entries)
        seconds = time.perf_counter() - start
        if run >= 0:
            mbps.append(total_bytes / 1e6 / seconds)
            ips.append(items / seconds)
    print(json.dumps({"parser": "feedparser", "version": feedparser.__version__, "files": len(files), "bytes": total_bytes,
                      "items": items, "runs": runs, "mbps": round(statistics.median(mbps), 2),
                      "items_per_s": round(statistics.median(ips))}))


if __name__ == "__main__":
    main(sys.argv)
