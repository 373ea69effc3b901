using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Briefing;

/// <summary>
/// Plans a briefing (window, sections), retrieves and clusters the news for each section, has the writer write it,
/// numbers the sources and stores the result.
/// </summary>
public sealed class BriefingComposer
{
    private readonly IArticleStore _store;
    private readonly IMarketStore _market;
    private readonly IBriefingStore _briefings;
    private readonly ISearchIndex _index;
    private readonly IBriefingWriter _writer;
    private readonly Watchlist _watchlist;
    private readonly BriefingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BriefingComposer> _logger;

    public BriefingComposer(IArticleStore store, IMarketStore market, IBriefingStore briefings, ISearchIndex index, IBriefingWriter writer, Watchlist watchlist,
        BriefingOptions options, TimeProvider time, ILogger<BriefingComposer> logger)
    {
        _store = store;
        _market = market;
        _briefings = briefings;
        _index = index;
        _writer = writer;
        _watchlist = watchlist;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>An as-of instant more than this many minutes before the writing time makes a back-dated briefing (titled "as of").</summary>
    public const int BackDatedAfterMinutes = 60;

    /// <summary>
    /// Writes and stores a briefing of the news before <paramref name="asOf"/> (default: now). It becomes a version of
    /// the edition of that instant's UTC date and supersedes any earlier briefing of the same edition.
    /// </summary>
    public async Task<BriefingDocument> ComposeAsync(DateTimeOffset? asOf = null, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var requested = (asOf ?? now).ToUniversalTime();
        var end = requested;
        var known = end;
        var start = end.AddHours(-_options.LookbackHours);
        var notes = new List<string>();
        var articles = _store.ArticlesInWindow(start, end, known);
        if (articles.Count == 0 && _store.LatestPublished(known) is { } latest && latest < start)
        {
            // Nothing new (a quiet feed set, or bundled samples from another day): cover the latest stored news and say so.
            var widenedEnd = latest.AddTicks(1);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"No articles were published in the {_options.LookbackHours} hours before {end:yyyy-MM-dd HH:mm} UTC; this briefing covers the latest {_options.LookbackHours} hours of stored news, ending {latest:yyyy-MM-dd HH:mm} UTC."));
            end = widenedEnd;
            start = end.AddHours(-_options.LookbackHours);
            articles = _store.ArticlesInWindow(start, end, known);
        }

        var clusters = new StoryClusterer(_options.ClusterThreshold).Cluster(articles);
        var material = new List<SectionMaterial>();
        var top = clusters.Take(_options.TopStories).ToList();
        material.Add(new SectionMaterial(BriefingSections.Top, "Top stories", top, []));
        var watch = await WatchlistStoriesAsync(clusters, top, start, end, cancellationToken);
        if (watch.Count > 0)
        {
            material.Add(new SectionMaterial(BriefingSections.Watchlist, "Watchlist", watch, []));
        }

        var closes = new Dictionary<string, IReadOnlyList<decimal>>(StringComparer.Ordinal);
        var markets = MarketMoves(end, closes);
        if (markets.Count > 0)
        {
            material.Add(new SectionMaterial(BriefingSections.Markets, "Markets", [], markets));
        }

        WriterReport? run = null;
        IReadOnlyList<DraftSection> drafts;
        if (_writer is IReportingBriefingWriter reporting)
        {
            var outcome = await reporting.WriteWithReportAsync(material, cancellationToken);
            drafts = outcome.Sections;
            run = outcome.Report;
            notes.AddRange(run.Notes);
        }
        else
        {
            drafts = await _writer.WriteAsync(material, cancellationToken);
        }

        var document = Number(drafts, material, articles, markets, closes, notes, start, end, now, requested, run);
        _briefings.SaveBriefing(document);
        _logger.LogInformation("Briefing {BriefingId}: {Bullets} bullets, {Sources} sources from {Articles} articles in window",
            document.Id, document.Sections.Sum(s => s.Bullets.Count), document.Sources.Count, articles.Count);
        return document;
    }

    private async Task<List<StoryCluster>> WatchlistStoriesAsync(IReadOnlyList<StoryCluster> clusters, List<StoryCluster> top,
        DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var byArticle = new Dictionary<string, StoryCluster>(StringComparer.Ordinal);
        foreach (var c in clusters)
        {
            foreach (var a in c.Articles)
            {
                byArticle[a.Id] = c;
            }
        }

        var used = new HashSet<StoryCluster>(top, ReferenceEqualityComparer.Instance);
        var picked = new List<StoryCluster>();
        foreach (var ticker in _watchlist.Tickers)
        {
            var names = string.Join(' ', new[] { ticker.Name, ticker.Symbol }.Concat(ticker.Aliases ?? []));
            var hits = await _index.SearchAsync(new SearchQuery(names, SearchMode.Hybrid, 20, start, end, [ticker.Symbol]), cancellationToken);
            var taken = 0;
            foreach (var hit in hits)
            {
                if (taken >= _options.PerTicker)
                {
                    break;
                }

                if (byArticle.TryGetValue(hit.ArticleId, out var cluster) && used.Add(cluster))
                {
                    picked.Add(cluster with { Focus = ticker.Symbol });
                    taken++;
                }
            }
        }

        return picked;
    }

    /// <summary>Sessions of closes a markets-table sparkline shows.</summary>
    public const int SparklineSessions = 20;

    private List<MarketMove> MarketMoves(DateTimeOffset end, Dictionary<string, IReadOnlyList<decimal>> closes)
    {
        // A day's bar is final only after the close: an as-of instant before it sees the previous day.
        var lastFinal = DateOnly.FromDateTime(end.UtcDateTime.AddHours(-_options.MarketCloseHourUtc));
        var names = _watchlist.Tickers.ToDictionary(t => t.Symbol, t => t.Name, StringComparer.Ordinal);
        var order = _watchlist.Tickers.Select((t, i) => (t.Symbol, i)).ToDictionary(x => x.Symbol, x => x.i, StringComparer.Ordinal);
        var moves = new List<MarketMove>();
        foreach (var symbol in _market.BarSymbols().OrderBy(s => order.GetValueOrDefault(s, -1)).ThenBy(s => s, StringComparer.Ordinal))
        {
            var bars = _market.GetBars(symbol, lastFinal, SparklineSessions);
            if (bars.Count == 0 || bars[0].Date < lastFinal.AddDays(-7))
            {
                continue;
            }

            decimal? Change(int back) => bars.Count > back && bars[back].Close != 0
                ? Math.Round((bars[0].Close - bars[back].Close) / bars[back].Close * 100, 2)
                : null;
            moves.Add(new MarketMove(symbol, names.GetValueOrDefault(symbol), bars[0], Change(1), Change(5), bars[0].Source));
            closes[symbol] = bars.Select(b => b.Close).Reverse().ToList();
        }

        return moves;
    }

    private BriefingDocument Number(IReadOnlyList<DraftSection> drafts, List<SectionMaterial> material,
        IReadOnlyList<Article> articles, List<MarketMove> markets, Dictionary<string, IReadOnlyList<decimal>> closes, List<string> notes,
        DateTimeOffset start, DateTimeOffset end, DateTimeOffset now, DateTimeOffset asOf, WriterReport? run)
    {
        // Only what the writer was given may be cited: a key outside this set is a fabricated source.
        var given = material.SelectMany(m => m.Stories).SelectMany(c => c.Articles)
            .DistinctBy(a => a.Id).ToDictionary(a => a.Id, StringComparer.Ordinal);
        var givenMarkets = markets.ToDictionary(ExtractiveWriter.MarketKey, StringComparer.Ordinal);
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var sources = new List<BriefingSource>();
        var sections = new List<BriefingSection>();
        var dropped = 0;

        // The number of a given source, numbering it on first use; null for a key that was not given.
        int? NumberOf(string key)
        {
            if (numbers.TryGetValue(key, out var n))
            {
                return n;
            }

            BriefingSource? source = null;
            if (given.TryGetValue(key, out var article))
            {
                source = new BriefingSource(sources.Count + 1, SourceKind.Article, article.Id, article.Outlet, article.Title,
                    article.Url, article.PublishedAt, article.Sample, article.Backfilled);
            }
            else if (givenMarkets.TryGetValue(key, out var move))
            {
                var close = new DateTimeOffset(move.Latest.Date.ToDateTime(new TimeOnly(_options.MarketCloseHourUtc, 0)), TimeSpan.Zero);
                source = new BriefingSource(sources.Count + 1, SourceKind.MarketData, null, move.Source,
                    string.Create(CultureInfo.InvariantCulture, $"{move.Symbol} daily bars to {move.Latest.Date:yyyy-MM-dd}"),
                    $"/market/{Uri.EscapeDataString(move.Symbol)}", close, move.Latest.Sample);
            }

            if (source is null)
            {
                return null;
            }

            sources.Add(source);
            numbers[key] = source.Number;
            return source.Number;
        }

        foreach (var draft in drafts)
        {
            var bullets = new List<BriefingBullet>();
            foreach (var bullet in draft.Bullets)
            {
                var cited = new List<int>();
                foreach (var key in bullet.SourceKeys.Distinct(StringComparer.Ordinal))
                {
                    if (NumberOf(key) is { } n)
                    {
                        cited.Add(n);
                    }
                    else
                    {
                        _logger.LogWarning("Writer {Writer} cited unknown source {Key}; citation removed", _writer.Name, key);
                    }
                }

                if (cited.Count == 0)
                {
                    dropped++;
                    continue;
                }

                bullets.Add(new BriefingBullet(bullet.Headline, bullet.Text, cited));
            }

            if (bullets.Count > 0)
            {
                sections.Add(new BriefingSection(draft.Key, draft.Title, bullets));
            }
        }

        if (markets.Count > 0)
        {
            // The markets table: every row straight from the stored bars, citing them (numbered here if no statement did).
            var rows = markets.Select(m => new MarketRow(m.Symbol, m.Name, m.Latest.Date, m.Latest.Close, m.DayChangePercent,
                m.FiveDayChangePercent, closes[m.Symbol], m.Latest.Flags,
                NumberOf(ExtractiveWriter.MarketKey(m))!.Value)).ToList();
            var at = sections.FindIndex(s => s.Key == BriefingSections.Markets);
            if (at >= 0)
            {
                sections[at] = sections[at] with { Rows = rows };
            }
            else
            {
                var draft = material.First(m => m.Key == BriefingSections.Markets);
                sections.Add(new BriefingSection(draft.Key, draft.Title, [], rows));
            }
        }

        if (dropped > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{dropped} statement(s) were dropped because they cited no source that was given."));
        }

        if (articles.Count == 0)
        {
            notes.Add("No stored articles fall in this window.");
        }

        var backfilled = sources.Count(s => s.Backfilled);
        if (backfilled > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{backfilled} of the {sources.Count(s => s.ArticleId is not null)} cited articles were imported from history (ingest --backfill): this service did not see them live; each is taken as first seen {BackfillRule.Describe}."));
        }

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', sources.Select(s => s.ArticleId ?? s.Title)) + end.ToString("O", CultureInfo.InvariantCulture))))[..6];
        var id = string.Create(CultureInfo.InvariantCulture, $"{now:yyyyMMdd-HHmmss}-{fingerprint}");
        // Titled by the day it was asked for; a back-dated briefing says so, so it is never mistaken for that day's edition of record.
        var title = string.Create(CultureInfo.InvariantCulture, $"Financial briefing, {asOf:dddd d MMMM yyyy}");
        if (asOf < now.AddMinutes(-BackDatedAfterMinutes))
        {
            title += string.Create(CultureInfo.InvariantCulture, $" (as of {asOf:HH:mm} UTC)");
        }

        var model = run is null || run.Writer == "extractive" ? null : $"{run.Profile}: {run.Model}";
        return new BriefingDocument(id, now, start, end, title, run?.Writer ?? _writer.Name, model, notes, sections, sources, run, asOf);
    }
}
