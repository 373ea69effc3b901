using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Briefing;

/// <summary>The abstention rule of <c>ask</c> (issue 10), measured on the bundled sample day without a model.</summary>
public sealed class RelevanceTests : IAsyncLifetime
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private Microsoft.Extensions.Hosting.IHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = AppHost.BuildTool(_env.Paths, _env.Clock, verbose: false);
        await _host.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        _host.Dispose();
        _env.Dispose();
        return Task.CompletedTask;
    }

    private Task<Answer> Ask(string question) => _host.Services.GetRequiredService<AnswerService>().AskAsync(question, null);

    [Fact]
    public async Task A_question_the_stored_news_does_not_cover_abstains_and_says_what_was_searched()
    {
        var answer = await Ask("What is the price of bitcoin?");

        answer.Text.Should().Be(AnswerService.NoAnswer);
        answer.Sources.Should().BeEmpty();
        answer.Notes.Should().ContainSingle().Which.Should().Contain("No stored source covers the question (terms: price, bitcoin)")
            .And.Contain("Searched: search \"What is the price of bitcoin?\"");
        answer.Tools.Should().ContainSingle().Which.Note.Should().Be("no result covers the question");
    }

    [Fact]
    public async Task A_question_about_a_ticker_uses_only_articles_about_it()
    {
        var answer = await Ask("What happened to NVLX?");

        answer.Sentences.Should().NotBeEmpty();
        answer.Text.Should().NotContain("Kelvane").And.NotContain("Sorrel");
        answer.Sentences[0].Text.Should().ContainAny("Novalux", "NVLX");
    }

    [Theory]
    [InlineData("Why are Aurelian Motors recalling SUVs?", "182,400")]
    [InlineData("What did the Bank of Japan decide?", "1.0%")]
    [InlineData("Kelvane Sorrel deal price", "Sorrel")]
    [InlineData("How did Kelvane shares react to the Sorrel deal, and what did each outlet say?", "Sorrel")]
    public async Task Questions_the_samples_answer_still_get_cited_answers(string question, string expected)
    {
        var answer = await Ask(question);

        answer.Sentences.Should().NotBeEmpty();
        answer.Text.Should().Contain(expected);
        answer.Sentences.Should().OnlyContain(s => s.Citations.Count > 0);
    }

    [Theory]
    [InlineData("What is the price of bitcoin?", "Gold climbs 0.9% as yields and the dollar retreat", false)]
    [InlineData("What did the Bank of Japan decide?", "Bank of Japan raises rates to 1.0%; yen strengthens", true)]
    [InlineData("What did the Bank of Japan decide?", "Fed governor sees 'room for patience' on further cuts", false)]
    [InlineData("kelvane sorrel deal", "Kelvane to buy Sorrel Biosciences for $4.2 billion in cash", true)]
    public void The_rule_is_term_coverage_with_names(string question, string source, bool relevant)
    {
        var relevance = new Relevance();

        Relevance.IsRelevant(relevance.Terms(question), source, []).Should().Be(relevant);
    }
}
