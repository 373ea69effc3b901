using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

public class FullTextExtractorTests
{
    private static readonly string Body = string.Join(" ", Enumerable.Repeat("Novalux said data-center revenue rose 44% to $4.91bn in the quarter.", 6));

    [Fact]
    public void Json_ld_article_body_wins_even_inside_a_graph()
    {
        var html = $$"""
            <html><head><script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","headline":"H","articleBody":"{{Body}}"}]}</script></head>
            <body><nav>Home | Markets</nav><p>Teaser only.</p></body></html>
            """;

        var (text, method) = FullTextExtractor.Extract(html);

        method.Should().Be(FullTextMethod.JsonLd);
        text.Should().Be(Body);
    }

    [Fact]
    public void The_article_element_is_used_without_navigation_scripts_or_asides()
    {
        var html = $"""
            <html><body><header><nav><a href="/">Home</a></nav></header>
            <article><h1>Title</h1><p>{Body}</p><aside>Related: other story</aside><script>alert(1)</script><p>Second paragraph of the article.</p></article>
            <footer>© Example</footer></body></html>
            """;

        var (text, method) = FullTextExtractor.Extract(html);

        method.Should().Be(FullTextMethod.ArticleElement);
        text.Should().StartWith("Novalux said").And.EndWith("Second paragraph of the article.");
        text.Should().NotContain("alert").And.NotContain("Related").And.NotContain("Home");
    }

    [Fact]
    public void Without_markup_hints_the_densest_paragraph_block_is_chosen_over_link_lists()
    {
        var links = string.Join("", Enumerable.Range(0, 30).Select(i => $"<p><a href=\"/s/{i}\">Another headline number {i} that is a link</a></p>"));
        var html = $"<html><body><div id=\"menu\">{links}</div><div id=\"story\"><p>{Body}</p><p>More detail on margins.</p></div></body></html>";

        var (text, method) = FullTextExtractor.Extract(html);

        method.Should().Be(FullTextMethod.DensestBlock);
        text.Should().StartWith("Novalux said").And.Contain("More detail on margins.");
        text.Should().NotContain("Another headline");
    }

    [Fact]
    public void A_page_with_no_article_text_yields_nothing()
    {
        FullTextExtractor.Extract("<html><body><p>Subscribe to read.</p></body></html>").Method.Should().Be(FullTextMethod.None);
        FullTextExtractor.Extract("").Text.Should().BeEmpty();
        FullTextExtractor.Extract("<script type=\"application/ld+json\">{not json</script><p>x</p>").Method.Should().Be(FullTextMethod.None);
    }
}
