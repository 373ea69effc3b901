namespace FinNews.Core.Market;

/// <summary>One trading day of a symbol.</summary>
/// <param name="Flags">Data-quality flags raised by checks (empty when clean).</param>
/// <param name="AdjClose">Provider's split- and dividend-adjusted close, when it gives one.</param>
/// <param name="Dividend">Cash dividend going ex on this date, when the provider reports it.</param>
/// <param name="SplitRatio">Split ratio effective on this date as the provider reports it (new/old shares), 0 when none.</param>
/// <param name="Sample">The bar comes from a file marked as sample data (the bundled fictional market).</param>
public sealed record DailyBar(
    string Symbol,
    DateOnly Date,
    decimal Open,
    decimal High,
    decimal Low,
    decimal Close,
    long Volume,
    string Source,
    IReadOnlyList<string> Flags,
    decimal? AdjClose = null,
    decimal? Dividend = null,
    decimal? SplitRatio = null,
    bool Sample = false);
