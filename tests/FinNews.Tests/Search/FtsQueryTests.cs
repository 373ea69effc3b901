using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public class FtsQueryTests
{
    [Theory]
    [InlineData("AT&T \"unbalanced", "\"at\" OR \"t\" OR \"unbalanced\"")]
    [InlineData("NOT", "\"not\"")]
    [InlineData("Fed fed FED rates", "\"fed\" OR \"rates\"")]
    [InlineData("title:foo*", "\"title\" OR \"foo\"")]
    public void Words_become_quoted_terms(string text, string expected)
    {
        FtsQuery.Build(text).Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("*")]
    [InlineData("\"\" ( ) ^ - +")]
    public void Text_without_words_gives_no_query(string text)
    {
        FtsQuery.Build(text).Should().BeNull();
    }

    [Fact]
    public void Long_queries_are_capped()
    {
        var text = string.Join(' ', Enumerable.Range(0, 100).Select(i => $"w{i}"));

        FtsQuery.Build(text)!.Split(" OR ").Should().HaveCount(FtsQuery.MaxTerms);
    }
}
