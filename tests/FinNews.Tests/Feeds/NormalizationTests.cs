using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

public class NormalizationTests
{
    [Theory]
    [InlineData("https://Example.COM/a/b?utm_source=x&id=7&utm_medium=y#frag", "https://example.com/a/b?id=7")]
    [InlineData("HTTP://news.example:80/story?fbclid=abc", "http://news.example/story")]
    [InlineData("https://news.example/story?gclid=1&utm_campaign=z", "https://news.example/story")]
    [InlineData("https://news.example/Path/Case?Q=Keep", "https://news.example/Path/Case?Q=Keep")]
    [InlineData("not a url", "not a url")]
    public void Canonical_urls_drop_tracking_parameters_fragments_and_case_of_host(string input, string expected) =>
        UrlCanonicalizer.Canonicalize(input).Should().Be(expected);

    [Fact]
    public void Html_to_text_drops_scripts_styles_and_handlers_and_keeps_the_words()
    {
        var text = HtmlText.ToText("<p>Shares <b>rose</b> 6%&nbsp;on Friday.</p><script>alert(1)</script><style>p{}</style><img src=x onerror=alert(2)><p>Second&amp;last.</p>");
        text.Should().Be("Shares rose 6% on Friday.\nSecond&last.");
        text.Should().NotContain("alert");
    }

    [Fact]
    public void Titles_are_plain_text_without_markup_but_keep_comparisons()
    {
        HtmlText.TitleText("Brent's <b>bold</b> 3% jump").Should().Be("Brent's bold 3% jump");
        HtmlText.TitleText("Marlow &amp; Finch").Should().Be("Marlow & Finch");
        HtmlText.TitleText("<div>Trump Insists Mexico Will Pay for Wall After U.S. Begins the Work</div>")
            .Should().Be("Trump Insists Mexico Will Pay for Wall After U.S. Begins the Work");
        HtmlText.TitleText("<img src=x onerror=alert(1)>Yields <p>rise</p>").Should().Be("Yields rise");
        HtmlText.TitleText("Rates < 5% and EPS > $2 <3").Should().Be("Rates < 5% and EPS > $2 <3");
    }

    [Fact]
    public void Tickers_are_found_as_cashtags_exchange_forms_symbols_and_names()
    {
        var tagger = new TickerTagger(new Watchlist([
            new WatchlistEntry("NVLX", "Novalux Semiconductor", "NASDAQ", ["Novalux"]),
            new WatchlistEntry("TIDE", "Tidereach Energy", "NYSE", ["Tidereach"], Ambiguous: true),
            new WatchlistEntry("HAUL", "Halcyon Air Group", "NYSE", [], Ambiguous: true),
        ]));

        tagger.Tag("$NVLX jumps").Should().Equal("NVLX");
        tagger.Tag("Chipmaker (NASDAQ:NVLX) beat").Should().Equal("NVLX");
        tagger.Tag("NVLX shares rose").Should().Equal("NVLX");
        tagger.Tag("Novalux beat estimates").Should().Equal("NVLX");
        tagger.Tag("Halcyon Air Group (NYSE: HAUL) was cut").Should().Equal("HAUL");
        tagger.Tag("$TIDE and Nasdaq: HAUL").Should().Equal("TIDE", "HAUL");
    }

    [Fact]
    public void Ambiguous_tickers_are_not_tagged_by_the_ordinary_word()
    {
        var tagger = new TickerTagger(new Watchlist([
            new WatchlistEntry("TIDE", "Tidereach Energy", "NYSE", ["Tidereach"], Ambiguous: true),
            new WatchlistEntry("HAUL", "Halcyon Air Group", "NYSE", [], Ambiguous: true),
            new WatchlistEntry("NVLX", "Novalux Semiconductor", "NASDAQ", ["Novalux"]),
        ]));

        tagger.Tag("A rising TIDE lifts all boats; the long HAUL ahead; halcyon days").Should().BeEmpty();
        tagger.Tag("the tide turned for a haul of novalux-like chips at nvlx.example").Should().BeEmpty();
        tagger.Tag("A listed peer (NASDAQ: SRLB) rose").Should().BeEmpty();
    }

    [Fact]
    public void Article_ids_are_stable_and_fall_back_from_guid_to_url()
    {
        var normalizer = new ArticleNormalizer(new TickerTagger(new Watchlist([])));
        var feed = new FeedDefinition("wire", "Wire", "samples/wire.xml");
        var seen = new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
        ParsedItem Item(string? id, string link) => new(id, "Title", link, null, null, [], "<p>Body</p>", null, [], []);

        var a = normalizer.Normalize(Item("g-1", "https://x.example/a?utm_source=rss"), feed, "Wire", seen)!;
        var b = normalizer.Normalize(Item("g-1", "https://x.example/other"), feed, "Wire", seen.AddHours(1))!;
        var c = normalizer.Normalize(Item(null, "https://x.example/a?utm_source=rss"), feed, "Wire", seen)!;
        var d = normalizer.Normalize(Item(null, "https://X.example/a#top"), feed, "Wire", seen)!;

        a.Id.Should().Be(b.Id, "the guid decides identity");
        c.Id.Should().Be(d.Id, "without a guid the canonical URL decides");
        a.Url.Should().Be("https://x.example/a");
        a.PublishedIsFallback.Should().BeTrue("the item had no date");
        a.PublishedAt.Should().Be(seen);
    }
}
