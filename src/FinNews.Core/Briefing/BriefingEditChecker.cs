using FinNews.Core.Feeds;
using FinNews.Core.Market;

namespace FinNews.Core.Briefing;

/// <summary>
/// Checks an analyst's rewording of a stored briefing's statement against the sources it cites, so that citations are
/// never left attached to words they do not support.
/// </summary>
/// <remarks>
/// An edited statement keeps its citations only when <see cref="CitationValidator"/> passes it against them: every
/// figure and ticker in the new text must appear in a cited source. Sources are rebuilt from the store: an article's
/// title, summary and body (its title and date alone when the article has since been deleted by retention), a market
/// row from the stored bars up to the cited date.
/// </remarks>
public sealed class BriefingEditChecker
{
    private readonly IArticleStore _store;
    private readonly IMarketStore _market;
    private readonly CitationValidator _validator;

    public BriefingEditChecker(IArticleStore store, IMarketStore market, CitationValidator validator)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(validator);
        _store = store;
        _market = market;
        _validator = validator;
    }

    /// <summary>The briefing's numbered sources as the validator sees them.</summary>
    public IReadOnlyDictionary<int, NumberedSource> Sources(BriefingDocument briefing)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        var articles = _store.GetArticles(briefing.Sources.Where(s => s.ArticleId is not null).Select(s => s.ArticleId!))
            .ToDictionary(a => a.Id, StringComparer.Ordinal);
        var sources = new Dictionary<int, NumberedSource>();
        foreach (var source in briefing.Sources)
        {
            var date = DateOnly.FromDateTime(source.PublishedAt.UtcDateTime);
            sources[source.Number] = source.Kind switch
            {
                SourceKind.Article when source.ArticleId is { } id && articles.TryGetValue(id, out var a) =>
                    new NumberedSource(source.Number, a.Id, $"{a.Title}\n{a.Summary}\n{a.Body}", a.Tickers, DateOnly.FromDateTime(a.PublishedAt.UtcDateTime)),
                SourceKind.MarketData when Market(source) is { } market => market,
                _ => new NumberedSource(source.Number, source.ArticleId ?? source.Url, source.Title, Symbol(source) is { } s ? [s] : [], date),
            };
        }

        return sources;
    }

    /// <summary>Why <paramref name="newText"/> may not keep the citations of <paramref name="original"/> (empty when it may).</summary>
    public IReadOnlyList<string> Check(BriefingBullet original, string newText, IReadOnlyDictionary<int, NumberedSource> sources)
    {
        ArgumentNullException.ThrowIfNull(original);
        return _validator.Check(new ProposedBullet(null, newText, original.Citations, []), sources);
    }

    // The market row a Markets citation stood for, recomputed from the stored bars (as the composer computed it).
    private NumberedSource? Market(BriefingSource source) =>
        MarketMoveFor(_market, source) is { } move
            ? LlmWriter.NumberSources(new SectionMaterial("edit", "edit", [], [move]))[0] with { Number = source.Number }
            : null;

    /// <summary>The market move a market-data source stood for, recomputed from the stored bars of its date (null when
    /// the source is not market data or its bars are gone).</summary>
    internal static MarketMove? MarketMoveFor(IMarketStore market, BriefingSource source)
    {
        if (Symbol(source) is not { } symbol)
        {
            return null;
        }

        var date = DateOnly.FromDateTime(source.PublishedAt.UtcDateTime);
        var bars = market.GetBars(symbol, date, 6);
        if (bars.Count == 0 || bars[0].Date != date)
        {
            return null;
        }

        decimal? Change(int back) => bars.Count > back && bars[back].Close != 0
            ? Math.Round((bars[0].Close - bars[back].Close) / bars[back].Close * 100, 2)
            : null;
        return new MarketMove(symbol, null, bars[0], Change(1), Change(5), bars[0].Source);
    }

    // Market sources link to this service's /market/{symbol} page.
    private static string? Symbol(BriefingSource source)
    {
        const string prefix = "/market/";
        return source.Kind == SourceKind.MarketData && source.Url.StartsWith(prefix, StringComparison.Ordinal) && source.Url.Length > prefix.Length
            ? Uri.UnescapeDataString(source.Url[prefix.Length..])
            : null;
    }
}
