using FinNews.Core.Briefing;
using FinNews.Core.Delivery;

namespace FinNews.Tests.Delivery;

/// <summary>A hand-made briefing shaped like the extractive writer's: top stories, watchlist ("NVLX: ..."), markets.</summary>
internal static class DigestTestData
{
    public static readonly DateTimeOffset Written = new(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);

    public const string Hostile = "<img src=x onerror=alert(1)> \"Q\" & <script>alert(2)</script>";

    public static BriefingDocument Briefing(string id = "b-2026-11-21") => new(
        id, Written, Written.AddDays(-1), Written, "Morning briefing: Novalux beats", "extractive", null,
        ["Markets section uses closes up to 2026-11-20."],
        [
            new BriefingSection("top", "Top stories",
            [
                new BriefingBullet("Novalux beats Q3 estimates", "Revenue rose 44% on data-center demand.", [1, 2]),
                new BriefingBullet("Harbor Bank cuts rates", "The central bank lowered its policy rate by 25 bp.", [3]),
                new BriefingBullet(Hostile, "Evil outlet says " + Hostile, [4]),
            ]),
            new BriefingSection("watchlist", "Watchlist",
            [
                new BriefingBullet("NVLX: Novalux lifts outlook", "Guidance raised to $7.3 billion.", [2]),
                new BriefingBullet("ACME: Acme recalls widgets", "Acme recalls 10,000 widgets.", [5]),
            ]),
            new BriefingSection("markets", "Markets",
            [
                new BriefingBullet("NVLX 101.50", "Closed at 101.50, up 7.0%.", [6]),
            ]),
        ],
        [
            new BriefingSource(1, SourceKind.Article, "a1", "Wire One", "Novalux Semiconductor beats Q3 estimates", "https://wire.example/a1", Written.AddHours(-10)),
            new BriefingSource(2, SourceKind.Article, "a2", "Daily Tape", "$NVLX jumps 7% after the bell", "https://tape.example/a2?x=1&y=2", Written.AddHours(-9)),
            new BriefingSource(3, SourceKind.Article, "a3", "Policy Post", "Harbor Bank lowers rate", "https://policy.example/a3", Written.AddHours(-8)),
            new BriefingSource(4, SourceKind.Article, "a4", "Evil <b>Outlet</b>", Hostile, "javascript:alert(3)", Written.AddHours(-7)),
            new BriefingSource(5, SourceKind.Article, "a5", "Widget Weekly", "Acme recall widens", "https://widgets.example/a5", Written.AddHours(-6)),
            new BriefingSource(6, SourceKind.MarketData, null, "FinNews sample market data", "NVLX daily bars to 2026-11-20", "/market/NVLX", Written.AddHours(-9)),
        ]);

    public static Subscriber Subscriber(IReadOnlyList<string>? sections = null, IReadOnlyList<string>? tickers = null) =>
        new(7, "analyst@example.com", "Europe/London", "daily 07:00", sections ?? [], tickers ?? [], "tok_EN-123", true, Written.AddDays(-3));

    public static DigestRenderer Renderer() => new(new DigestOptions { BaseUrl = "https://news.example/app/" }, "FinNews <digest@news.example>");
}
