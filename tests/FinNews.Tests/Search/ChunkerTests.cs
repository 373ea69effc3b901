using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public class ChunkerTests
{
    [Fact]
    public void Chunk_ids_are_deterministic_and_numbered()
    {
        var article = SearchTestData.Article("art1", "Title", "Summary.", body: SearchTestData.Sentences(100));

        var first = Chunker.Chunk(article);
        var second = Chunker.Chunk(article with { });

        second.Should().Equal(first);
        first.Select(c => c.Id).Should().Equal(first.Select((_, n) => $"art1#{n}"));
    }

    [Fact]
    public void Chunk_zero_is_title_and_summary()
    {
        var chunks = Chunker.Chunk(SearchTestData.Article("a", "Acme  rallies", "Shares\nrose 5%.", body: "Body text."));

        chunks[0].Text.Should().Be("Acme rallies. Shares rose 5%.");
        chunks.Should().HaveCount(2);
        chunks[1].Text.Should().Be("Body text.");
    }

    [Fact]
    public void Body_is_cut_into_windows_on_sentence_boundaries_without_losing_words()
    {
        var body = SearchTestData.Sentences(100); // 900 words
        var windows = Chunker.Windows(body);

        windows.Should().HaveCountGreaterThan(2);
        windows.Should().OnlyContain(w => w.EndsWith('.'));
        windows.Select(WordCount).Should().OnlyContain(n => n <= Chunker.MaxWords);
        windows.SkipLast(1).Select(WordCount).Should().OnlyContain(n => n >= Chunker.MinWords);
        string.Join(' ', windows).Should().Be(body);
    }

    [Fact]
    public void An_overlong_sentence_is_cut()
    {
        var body = string.Join(' ', Enumerable.Repeat("word", 700));

        Chunker.Windows(body).Select(WordCount).Should().Equal(300, 300, 100);
    }

    [Fact]
    public void A_tiny_tail_joins_the_previous_window()
    {
        // 23 nine-word sentences close a window at 207 words; the 2-word tail is folded into it.
        var body = SearchTestData.Sentences(23) + " Short end.";

        Chunker.Windows(body).Select(WordCount).Should().Equal(209);
    }

    [Fact]
    public void No_body_means_only_chunk_zero()
    {
        Chunker.Chunk(SearchTestData.Article("a", "Title", "")).Should().ContainSingle().Which.Text.Should().Be("Title");
    }

    private static int WordCount(string text) => text.Split(' ').Length;
}
