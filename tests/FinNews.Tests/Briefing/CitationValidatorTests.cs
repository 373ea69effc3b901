using FinNews.Core.Briefing;
using FinNews.Core.Market;

namespace FinNews.Tests.Briefing;

public class CitationValidatorTests
{
    private static readonly CitationValidator Validator = new(["NVLX", "ACME"]);

    private static Dictionary<int, NumberedSource> Sources(params string[] texts) =>
        texts.Select((t, i) => new NumberedSource(i + 1, $"a{i + 1}", t, [], new DateOnly(2026, 11, 20))).ToDictionary(s => s.Number);

    private static IReadOnlyList<string> Check(string text, IReadOnlyList<int> cites, Dictionary<int, NumberedSource> sources) =>
        Validator.Check(new ProposedBullet(null, text, cites, []), sources);

    [Theory]
    [InlineData("Inflation eased to 2.5%.", "Inflation eased to 2.50 percent in October.")]
    [InlineData("Inflation eased to 2.5 per cent.", "Inflation eased to 2.5% in October.")]
    [InlineData("Revenue reached $1.2bn.", "Revenue was 1.2 billion dollars.")]
    [InlineData("Revenue reached $1.2bn.", "Revenue was $1,200 million.")]
    [InlineData("Revenue reached $1.2 billion.", "Revenue was $1.21bn, ahead of forecasts.")]
    [InlineData("The Fed cut by 25bp.", "The Fed cut rates by 25 basis points.")]
    [InlineData("The Fed cut by 0.25 percentage point.", "The Fed cut rates by 25bp.")]
    [InlineData("The meeting ends on 20 November.", "The meeting ends Nov. 20.")]
    [InlineData("Results are due November 20, 2026.", "Results are due 2026-11-20.")]
    [InlineData("$NVLX rose.", "NVLX shares rose.")]
    [InlineData("Sales rose 44% in Q3.", "Data-center sales rose 44 percent in the third quarter.")]
    public void Equivalent_figures_written_differently_are_supported(string bullet, string source)
    {
        Check(bullet, [1], Sources(source)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("Revenue reached $1.3bn.", "Revenue was $1.2bn.", "'$1.3bn'")]
    [InlineData("Revenue reached $1.21bn.", "Revenue was $1.2bn.", "'$1.21bn'")]
    [InlineData("Revenue reached €1.2bn.", "Revenue was $1.2bn.", "'€1.2bn'")]
    [InlineData("The Fed cut by 0.25%.", "The Fed cut rates by 25 basis points.", "'0.25%'")]
    [InlineData("Inflation eased to 2.4%.", "Inflation eased to 2.5%.", "'2.4%'")]
    [InlineData("The meeting ends on 21 November.", "The meeting ends Nov. 20.", "date '21 November'")]
    [InlineData("ACME fell.", "NVLX shares rose.", "ticker 'ACME'")]
    public void Figures_dates_and_tickers_absent_from_the_cited_sources_are_violations(string bullet, string source, string expected)
    {
        Check(bullet, [1], Sources(source)).Should().ContainSingle().Which.Should().Contain(expected);
    }

    [Fact]
    public void A_bullet_needs_a_citation_and_may_cite_only_given_sources()
    {
        Check("Stocks rose.", [], Sources("Stocks rose.")).Should().Equal("no citation");
        Check("Stocks rose.", [2], Sources("Stocks rose.")).Should().ContainSingle().Which.Should().Contain("[2]");
    }

    [Fact]
    public void A_figure_must_be_in_a_cited_source_not_just_any_given_source()
    {
        var sources = Sources("Revenue was $7.3bn.", "Shares rose 7%.");

        Check("Revenue was $7.3bn and shares rose 7%.", [1], sources).Should().ContainSingle().Which.Should().Contain("'7%'");
        Check("Revenue was $7.3bn and shares rose 7%.", [1, 2], sources).Should().BeEmpty();
    }

    [Fact]
    public void Market_statements_must_match_the_stored_bar_in_value_and_direction()
    {
        var bar = new DailyBar("NVLX", new DateOnly(2026, 11, 20), 100m, 110m, 99m, 107.42m, 1_000_000, "sample", []);
        var move = new MarketMove("NVLX", "Novalux", bar, 7.13m, -2.05m, "sample");
        var sources = new Dictionary<int, NumberedSource>
        {
            [1] = LlmWriter.NumberSources(new SectionMaterial("markets", "Markets", [], [move]))[0],
        };

        Check("NVLX closed at 107.42, up 7.1% on the day.", [1], sources).Should().BeEmpty();
        Check("NVLX closed at $107.42, up 7.13%.", [1], sources).Should().BeEmpty();
        Check("NVLX closed at 107.50.", [1], sources).Should().ContainSingle().Which.Should().Contain("'107.50'");
        Check("NVLX fell 7.1% on the day.", [1], sources).Should().ContainSingle().Which.Should().Contain("stored bars show a rise");
        Check("NVLX gained 2.1% over five sessions.", [1], sources).Should().ContainSingle().Which.Should().Contain("a fall");
    }

    [Fact]
    public void Format_problems_found_by_the_parser_are_reported()
    {
        var parsed = BulletFormats.ParseMarkdown("- Stocks rose [1,2]\n- Bonds fell [1]\n- Oil was flat");

        parsed.Failed.Should().BeFalse();
        var report = Validator.Validate(parsed.Bullets, Sources("Stocks rose. Bonds fell. Oil was flat."));
        report.Checks.Select(c => c.Passed).Should().Equal(false, true, false);
        report.Checks[0].Reasons.Should().Contain(r => r.Contains("malformed citation [1,2]", StringComparison.Ordinal));
        report.Checks[2].Reasons.Should().Contain(r => r.StartsWith("no citation", StringComparison.Ordinal));
        report.Elapsed.Should().BeGreaterThan(TimeSpan.Zero);
    }

    [Fact]
    public void Markdown_that_is_not_bullets_fails_as_a_whole()
    {
        BulletFormats.ParseMarkdown("Here is the section:\n- Stocks rose [1]").Error.Should().Contain("line 1");
        BulletFormats.ParseJson("{\"bullets\": [ {\"text\": ").Failed.Should().BeTrue();
        BulletFormats.ParseJson("""{"bullets":[{"headline":null,"text":"Stocks rose [2].","citations":[1]}]}""").Bullets.Single()
            .Should().BeEquivalentTo(new ProposedBullet(null, "Stocks rose.", [1, 2], []));
    }
}
