using FinNews.Core.Briefing;

namespace FinNews.Tests.Briefing;

public class SentencesTests
{
    [Theory]
    [InlineData("President-elect Donald J. Trump said Mexico would pay. Markets shrugged.", "President-elect Donald J. Trump said Mexico would pay.")]
    [InlineData("U.S. stocks rose on Friday. Bonds fell.", "U.S. stocks rose on Friday.")]
    [InlineData("Kelvane Inc. agreed to buy Sorrel for $4.1bn. The deal closes in May.", "Kelvane Inc. agreed to buy Sorrel for $4.1bn.")]
    [InlineData("The No. 2 automaker cut output by 4.25% in Sept. Analysts expect more.", "The No. 2 automaker cut output by 4.25% in Sept. Analysts expect more.")]
    [InlineData("Trading halted at 3 p.m. Eastern time. Shares resumed later.", "Trading halted at 3 p.m. Eastern time.")]
    [InlineData("“We are done,” he said. “Finished.”", "“We are done,” he said.")]
    [InlineData("Yields jumped to 4.6%! Traders sold.", "Yields jumped to 4.6%!")]
    [InlineData("A headline without an end\nSecond line. More.", "A headline without an end")]
    public void The_first_sentence_ends_at_a_real_sentence_end(string text, string first)
    {
        Sentences.First(text).Should().Be(first);
    }

    [Fact]
    public void A_text_splits_into_its_sentences_in_order()
    {
        Sentences.Split("Mr. Powell spoke at 10 a.m. Yields fell 5 bp. The dollar rose.\nStocks were flat")
            .Should().Equal("Mr. Powell spoke at 10 a.m. Yields fell 5 bp.", "The dollar rose.", "Stocks were flat");
        Sentences.Split("  ").Should().BeEmpty();
    }

    [Fact]
    public void The_extractive_writer_leads_with_a_whole_sentence()
    {
        ExtractiveWriter.LeadSentence("President-elect Donald J. Trump named his pick. Other news followed.")
            .Should().Be("President-elect Donald J. Trump named his pick.");
    }
}
