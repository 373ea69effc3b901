// Times node rss-parser on the files listed in LIST, as bench/peers/run.sh asks.
// usage: node rssparser_bench.js LIST [--probe] [--runs N] [--warmup N]   (NODE_PATH points at its node_modules)
// rss-parser parses strings: each file is decoded once, before timing, as UTF-8 (invalid bytes become U+FFFD, as in
// rss-parser's own tests; its recorded uolNoticias output shows exactly that).
'use strict';
const fs = require('fs');
const Parser = require('rss-parser');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function decode(buffer) {
  // As rss-parser's own tests read their inputs: UTF-8, invalid bytes replaced.
  return new TextDecoder('utf-8', { fatal: false }).decode(buffer);
}

async function main() {
  const list = process.argv[2];
  const probe = process.argv.includes('--probe');
  const runs = arg('--runs', 10);
  const warmup = arg('--warmup', 3);
  const paths = fs.readFileSync(list, 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const files = paths.map((p) => ({ path: p, bytes: fs.readFileSync(p) }));
  const texts = files.map((f) => decode(f.bytes));
  const parser = new Parser();
  if (probe) {
    const ok = [];
    const failed = [];
    for (let i = 0; i < files.length; i++) {
      try {
        await parser.parseString(texts[i]);
        ok.push(files[i].path);
      } catch (e) {
        failed.push(files[i].path.split('/').pop() + ': ' + String(e.message).split('\n')[0].slice(0, 60));
      }
    }
    console.log(JSON.stringify({ parser: 'rss-parser', ok, failed }));
    return;
  }
  const totalBytes = files.reduce((n, f) => n + f.bytes.length, 0);
  const mbps = [];
  const ips = [];
  let items = 0;
  for (let run = -warmup; run < runs; run++) {
    items = 0;
    const start = process.hrtime.bigint();
    for (const text of texts) {
      items += (await parser.parseString(text)).items.length;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (run >= 0) {
      mbps.push(totalBytes / 1e6 / seconds);
      ips.push(items / seconds);
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  console.log(JSON.stringify({ parser: 'rss-parser', version: require('rss-parser/package.json').version, files: files.length,
    bytes: totalBytes, items, runs, mbps: Math.round(median(mbps) * 100) / 100, items_per_s: Math.round(median(ips)) }));
}

main().catch((e) => { console.error(e); process.exit(1); });
