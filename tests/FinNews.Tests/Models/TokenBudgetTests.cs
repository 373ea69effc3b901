using FinNews.Core.Models;
using Microsoft.ML.Tokenizers;

namespace FinNews.Tests.Models;

public class TokenBudgetTests
{
    private const string Text = "Kelvane Pharmaceuticals agreed to buy Sorrel Biosciences for $4.2 billion in cash, a 41% premium; shares of $KLVP fell 3.1%.";

    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4o-mini-2024-07-18", "o200k_base")]
    [InlineData("ft:gpt-4o-mini-2024-07-18:finnews::abc123", "o200k_base")]
    [InlineData("gpt-4.1-mini", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    public void Known_models_count_exactly_what_their_tokenizer_counts(string model, string encoding)
    {
        var counter = ModelTokenizer.For(model);

        counter.Exact.Should().BeTrue();
        counter.Encoding.Should().Be(encoding);
        counter.Count(Text).Should().Be(TiktokenTokenizer.CreateForEncoding(encoding).CountTokens(Text));
        counter.CountChat([("system", "Be terse."), ("user", Text)])
            .Should().Be(3 + counter.Count("system") + counter.Count("Be terse.") + 3 + counter.Count("user") + counter.Count(Text) + 3);
    }

    [Fact]
    public void The_tokenizers_differ_so_the_family_matters() =>
        ModelTokenizer.For("gpt-4o").Count(Text + Text + "日本銀行は政策金利を引き上げた").Should()
            .NotBe(ModelTokenizer.For("gpt-4").Count(Text + Text + "日本銀行は政策金利を引き上げた"));

    [Theory]
    [InlineData("llama3.1:8b-instruct")]
    [InlineData("finnews-lora")]
    public void Unknown_models_get_an_estimate_labelled_as_such(string model)
    {
        var counter = ModelTokenizer.For(model);

        counter.Exact.Should().BeFalse();
        counter.Encoding.Should().Be(ModelTokenizer.EstimateEncoding);
        counter.Count(Text).Should().Be((Text.Length + 3) / 4);
        ModelTokenizer.DefaultContextWindow(model).Should().Be(8192);
    }

    [Fact]
    public void Two_hundred_long_sources_fit_the_budget_best_ranked_first_and_whole()
    {
        var counter = ModelTokenizer.For("gpt-4o");
        var sources = Enumerable.Range(1, 200)
            .Select(i => $"<source id=\"{i}\">\n" + string.Concat(Enumerable.Repeat($"Outlet {i} reported that Novalux revenue rose 44% to $7.3 billion in the quarter. ", 25)) + "\n</source>")
            .ToList();
        var profile = new ModelProfile { Name = "briefing", Endpoint = new Uri("http://127.0.0.1/v1"), Model = "gpt-4o", ContextWindow = 16_000, MaxOutputTokens = 1000 };
        var budget = ContextBudget.ForSources(profile, fixedPromptTokens: 700);

        var fit = ContextBudget.Fit(sources, budget, counter);

        budget.Should().Be(16_000 - 1000 - 700 - 256);
        fit.Kept.Should().BeGreaterThan(0).And.BeLessThan(200);
        (fit.Kept + fit.LeftOut).Should().Be(200);
        fit.Tokens.Should().Be(sources.Take(fit.Kept).Sum(counter.Count)).And.BeLessThanOrEqualTo(budget);
        (fit.Tokens + counter.Count(sources[fit.Kept])).Should().BeGreaterThan(budget, "the next source would not have fit");
        fit.Note("source(s)").Should().Be($"{fit.LeftOut} lower-ranked source(s) left out to fit the model's context budget.");
        ContextBudget.Fit(sources.Take(3).ToList(), budget, counter).LeftOut.Should().Be(0);
    }

    [Fact]
    public void Default_context_windows_follow_the_model_family()
    {
        ModelTokenizer.DefaultContextWindow("ft:gpt-4o-mini-2024-07-18:finnews::abc123").Should().Be(128_000);
        ModelTokenizer.DefaultContextWindow("gpt-4").Should().Be(8_192);
        ModelTokenizer.DefaultContextWindow("gpt-3.5-turbo").Should().Be(16_385);
    }
}
