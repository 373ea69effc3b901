namespace FinNews.Core.Market;

/// <summary>Daily market bars, one row per symbol and date.</summary>
public interface IMarketStore
{
    /// <summary>Upserts bars: reloading a file never duplicates. Returns rows written.</summary>
    int UpsertBars(IEnumerable<DailyBar> bars);

    /// <summary>Bars of a symbol up to and including <paramref name="onOrBefore"/>, newest first.</summary>
    IReadOnlyList<DailyBar> GetBars(string symbol, DateOnly onOrBefore, int limit = 30);

    /// <summary>Every symbol with bars, in order.</summary>
    IReadOnlyList<string> BarSymbols();
}
