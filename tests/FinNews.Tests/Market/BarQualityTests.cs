using FinNews.Core.Market;
using FinNews.Tests.Support;
using Xunit.Abstractions;

namespace FinNews.Tests.Market;

public class BarQualityTests(ITestOutputHelper output)
{
    private static readonly string Yfinance = Path.GetFullPath(Path.Combine(TestEnvironment.RepoRoot, "..", "shared", "corpora", "market-data", "yahoo-yfinance"));

    public static TheoryData<string> BadFiles() => [.. Directory.GetFiles(Yfinance, "*.csv")
        .Where(f => !f.EndsWith("-fixed.csv", StringComparison.Ordinal)).Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_yfinance_bars_are_flagged_and_their_repaired_versions_much_less(string file)
    {
        var bad = BarQualityChecker.Check(OhlcvCsv.Read(Path.Combine(Yfinance, file), "yfinance", "X"));
        var fixedBars = BarQualityChecker.Check(OhlcvCsv.Read(Path.Combine(Yfinance, file.Replace(".csv", "-fixed.csv", StringComparison.Ordinal)), "yfinance", "X"));
        var badFlagged = bad.Count(b => b.Flags.Any(f => f != BarQualityChecker.Gap));
        var fixedFlagged = fixedBars.Count(b => b.Flags.Any(f => f != BarQualityChecker.Gap));
        output.WriteLine($"{file}: {badFlagged}/{bad.Count} flagged; repaired {fixedFlagged}/{fixedBars.Count}; flags {string.Join(",", bad.SelectMany(b => b.Flags).Distinct())}");

        badFlagged.Should().BeGreaterThan(0);
        fixedFlagged.Should().BeLessThan(badFlagged);
    }
}
