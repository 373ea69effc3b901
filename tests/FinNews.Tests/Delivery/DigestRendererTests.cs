using System.Text.RegularExpressions;
using FinNews.Core.Delivery;

namespace FinNews.Tests.Delivery;

public partial class DigestRendererTests
{
    [Fact]
    public void Text_and_html_both_carry_every_citation_and_a_numbered_source_list()
    {
        var briefing = DigestTestData.Briefing();

        var digest = DigestTestData.Renderer().Render(briefing, DigestTestData.Subscriber());

        digest.Subject.Should().Be("[FinNews] Morning briefing: Novalux beats");
        foreach (var source in briefing.Sources)
        {
            digest.Text.Should().Contain($"[{source.Number}]");
            digest.Html.Should().Contain($"data-source=\"{source.Number}\"").And.Contain($"id=\"src-{source.Number}\"");
        }

        digest.Text.Should().Contain("* Novalux beats Q3 estimates - Revenue rose 44% on data-center demand. [1][2]");
        digest.Text.Should().Contain("[2] Daily Tape: $NVLX jumps 7% after the bell\n    https://tape.example/a2?x=1&y=2\n    2026-11-20 21:00 UTC".Replace("\n", Environment.NewLine, StringComparison.Ordinal));
        // Citations link straight to the source; this service's own paths become absolute under the base URL.
        digest.Html.Should().Contain("href=\"https://tape.example/a2?x=1&amp;y=2\"");
        digest.Text.Should().Contain("https://news.example/app/market/NVLX");
        digest.Html.Should().Contain("href=\"https://news.example/app/market/NVLX\"");
        digest.Text.Should().Contain("Read online: https://news.example/app/briefings/b-2026-11-21");
    }

    [Fact]
    public void Hostile_feed_text_stays_encoded_in_html_and_inert_in_text()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber());

        digest.Html.Should().NotContain("<img").And.NotContain("<script").And.NotContain("<b>Outlet").And.NotContain("javascript:");
        digest.Html.Should().Contain("&lt;img src=x onerror=alert(1)&gt;");
        digest.Text.Should().NotContain("javascript:", "unsafe URLs are not printed as links");
        digest.Text.Should().Contain("[4] Evil <b>Outlet</b>: <img src=x onerror=alert(1)>", "plain text shows the text as it is");
    }

    [Fact]
    public void Feed_text_cannot_add_lines_or_headers()
    {
        var briefing = DigestTestData.Briefing() with { Title = "Title\r\nBcc: victim@example.com" };

        var digest = DigestTestData.Renderer().Render(briefing, DigestTestData.Subscriber());

        digest.Subject.Should().NotContainAny("\r", "\n").And.Be("[FinNews] Title Bcc: victim@example.com");
        digest.Text.Should().StartWith("Title Bcc: victim@example.com" + Environment.NewLine);
    }

    [Fact]
    public void A_section_filter_keeps_those_sections_and_only_the_sources_they_cite_with_their_original_numbers()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber(sections: ["watchlist"]));

        digest.Briefing.Sections.Select(s => s.Key).Should().Equal("watchlist");
        digest.Briefing.Sources.Select(s => s.Number).Should().Equal(2, 5);
        digest.Text.Should().Contain("WATCHLIST").And.NotContain("TOP STORIES").And.NotContain("[1]").And.Contain("[5] Widget Weekly");
        digest.Html.Should().Contain("id=\"src-5\" value=\"5\"").And.NotContain("id=\"src-1\"");
        digest.Text.Should().Contain("Filtered for you: sections watchlist.");
    }

    [Fact]
    public void A_ticker_filter_keeps_bullets_that_name_the_symbol_or_cite_a_source_about_it()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber(tickers: ["NVLX"]));

        var kept = digest.Briefing.Sections.SelectMany(s => s.Bullets).Select(b => b.Headline).ToList();
        // "Novalux beats" names no symbol, but cites [2] whose title carries $NVLX; the watchlist and market bullets start with it.
        kept.Should().Equal("Novalux beats Q3 estimates", "NVLX: Novalux lifts outlook", "NVLX 101.50");
        digest.Briefing.Sources.Select(s => s.Number).Should().Equal(1, 2, 6);
        digest.Text.Should().NotContain("Acme").And.NotContain("Harbor");
    }

    [Fact]
    public void A_ticker_filter_also_matches_an_articles_stored_tickers()
    {
        var tags = new Dictionary<string, IReadOnlyList<string>> { ["a3"] = ["HRBR"] };

        var filtered = DigestRenderer.Filter(DigestTestData.Briefing(), [], ["HRBR"], tags);

        filtered.Sections.SelectMany(s => s.Bullets).Select(b => b.Headline).Should().Equal("Harbor Bank cuts rates");
    }

    [Theory]
    [InlineData("NVLX: up", "NVLX", true)]
    [InlineData("$NVLX jumps", "NVLX", true)]
    [InlineData("NVLXX jumps", "NVLX", false)]
    [InlineData("nvlx jumps", "NVLX", false)]
    [InlineData("(NASDAQ: ON) rises", "ON", true)]
    [InlineData("Shares moved on news", "ON", false)]
    public void A_ticker_is_matched_as_a_whole_symbol(string text, string ticker, bool expected) =>
        DigestRenderer.NamesTicker(text, ticker).Should().Be(expected);

    [Fact]
    public void Nothing_matching_the_filters_gives_an_empty_digest()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber(tickers: ["ZZZZ"]));

        digest.IsEmpty.Should().BeTrue();
        digest.Briefing.Sources.Should().BeEmpty();
    }

    [Fact]
    public void Unsubscribe_is_offered_in_the_headers_and_in_both_parts()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber());

        var headers = digest.Headers.ToDictionary(h => h.Key, h => h.Value);
        headers["List-Unsubscribe"].Should().Be("<mailto:digest@news.example?subject=unsubscribe%20tok_EN-123>, <https://news.example/app/unsubscribe/tok_EN-123>");
        headers["List-Unsubscribe-Post"].Should().Be("List-Unsubscribe=One-Click");
        digest.Text.Should().Contain("Unsubscribe: https://news.example/app/unsubscribe/tok_EN-123");
        digest.Html.Should().Contain("<a class=\"unsubscribe\" href=\"https://news.example/app/unsubscribe/tok_EN-123\"");
    }

    [Fact]
    public void The_html_part_is_a_document_with_inline_styles_only()
    {
        var digest = DigestTestData.Renderer().Render(DigestTestData.Briefing(), DigestTestData.Subscriber());

        digest.Html.Should().StartWith("<!DOCTYPE html>").And.NotContain("<style").And.NotContain("<link");
        OpenTags().Matches(digest.Html).Select(m => m.Groups[1].Value).Distinct()
            .Should().BeSubsetOf(["html", "head", "meta", "title", "body", "div", "h1", "h2", "p", "ul", "ol", "li", "strong", "a", "span", "br", "hr"]);
    }

    [GeneratedRegex("<([a-z0-9]+)[\\s>]")]
    private static partial Regex OpenTags();
}
