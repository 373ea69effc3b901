using FinNews.Core.Feeds;
using FinNews.Core.Models;
using FinNews.Core.Search;
using Microsoft.Extensions.AI;

namespace FinNews.Tests.Search;

/// <summary>
/// The local sentence model (Search:Embedder = arctic), run for real: the ONNX weights ship in the package, so these
/// tests load and run the same model a user gets.
/// </summary>
public sealed class ArcticEmbedderTests : IClassFixture<ArcticEmbedderTests.Model>
{
    private readonly ArcticEmbedder _embedder;

    public ArcticEmbedderTests(Model model) => _embedder = model.Embedder;

    // Each question shares no word (and no stem) with the story that answers it, so lexical search cannot find it.
    private static readonly (string Question, string ArticleId)[] Paraphrases =
    [
        ("lender collapse", "bank"),
        ("petroleum costs jump", "oil"),
        ("carmaker sacks staff", "jobs"),
    ];

    private static IReadOnlyList<Article> Stories() =>
    [
        SearchTestData.Article("bank", "Regional bank fails as depositors rush to withdraw", "Regulators seized the institution on Friday after a run on deposits."),
        SearchTestData.Article("oil", "Crude surges after OPEC output cut", "Brent climbed 6 percent as producers agreed to pump less."),
        SearchTestData.Article("jobs", "Automaker to cut 5,000 positions", "The manufacturer will close two plants and reduce its workforce."),
        SearchTestData.Article("chip", "Novalux unveils new accelerator chip", "Shares rose after the company unveiled a processor for data centers."),
        SearchTestData.Article("fed", "Federal Reserve holds rates steady", "Policymakers kept the benchmark unchanged and signaled patience."),
    ];

    [Fact]
    public async Task Vectors_are_unit_length_384_wide_and_a_blank_text_has_none()
    {
        var vectors = await _embedder.GenerateAsync(["Crude surges after OPEC output cut", "", "   "]);

        vectors.Should().HaveCount(3);
        vectors[0].Vector.Length.Should().Be(ArcticEmbedder.ModelDimensions);
        Norm(vectors[0].Vector.Span).Should().BeApproximately(1, 1e-4);
        vectors[1].Vector.ToArray().Should().OnlyContain(x => x == 0, "a blank text must not match anything");
        vectors[2].Vector.ToArray().Should().OnlyContain(x => x == 0);
        vectors[0].ModelId.Should().Be("snowflake-arctic-embed-xs");
    }

    [Fact]
    public async Task A_batch_of_mixed_lengths_gives_each_text_its_own_vector_in_input_order()
    {
        // Batches are sorted by length inside the embedder; the results must come back in the caller's order.
        string[] texts =
        [
            SearchTestData.Sentences(30, "refinery"),
            "Fed holds rates.",
            "Automaker to cut 5,000 positions as demand slows in Europe and China.",
            "",
            "Gold.",
        ];

        var batch = await _embedder.GenerateAsync(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = (await _embedder.GenerateAsync([texts[i]]))[0].Vector.ToArray();
            batch[i].Vector.ToArray().Should().Equal(alone, (a, b) => Math.Abs(a - b) < 1e-4, $"text {i}");
        }
    }

    [Fact]
    public async Task A_query_is_embedded_with_the_model_instruction_and_a_passage_without_it()
    {
        const string text = "bank failure";
        var passage = (await _embedder.GenerateAsync([text]))[0].Vector.ToArray();
        var query = (await _embedder.GenerateAsync([text], EmbeddingInput.Query))[0].Vector.ToArray();
        var instructed = (await _embedder.GenerateAsync([ArcticEmbedder.QueryInstruction + text]))[0].Vector.ToArray();

        query.Should().Equal(instructed, (a, b) => Math.Abs(a - b) < 1e-5);
        query.Zip(passage, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f, "the instruction changes the query vector");
    }

    [Fact]
    public async Task The_model_finds_a_story_told_in_other_words_where_lexical_search_finds_nothing()
    {
        using var database = new TempDatabase();
        using var index = await StoriesIndexAsync(database);

        foreach (var (question, expected) in Paraphrases)
        {
            (await index.SearchAsync(new SearchQuery(question, SearchMode.Lexical))).Should().BeEmpty($"'{question}' shares no word with any story");
            var vector = await index.SearchAsync(new SearchQuery(question, SearchMode.Vector, Limit: 5));
            vector[0].ArticleId.Should().Be(expected, $"the model knows what '{question}' means");
            var hybrid = await index.SearchAsync(new SearchQuery(question, SearchMode.Hybrid, Limit: 5));
            hybrid.Should().NotBeEmpty().And.Subject.First().ArticleId.Should().Be(expected, $"hybrid, '{question}'");
        }
    }

    [Fact]
    public async Task A_question_the_stories_do_not_answer_finds_nothing_in_hybrid_search()
    {
        using var database = new TempDatabase();
        using var index = await StoriesIndexAsync(database);

        // Off-topic questions score 0.35-0.53 against these stories, the paraphrases 0.58-0.59 against theirs. A finance
        // question about a story that is not there ("bitcoin etf": 0.53-0.56) sits close to the floor: the sentence
        // model's cosines are compressed, so its floor separates topics, not neighbouring stories of one topic.
        foreach (var question in new[] { "football championship final", "recipe for sourdough bread", "weather forecast for tomorrow" })
        {
            var hits = await index.SearchAsync(new SearchQuery(question, SearchMode.Hybrid));
            hits.Should().BeEmpty($"no story is about '{question}': every nearest neighbour is below the arctic floor");
        }
    }

    [Fact]
    public async Task The_query_marker_never_reaches_an_openai_compatible_endpoint()
    {
        var inner = new RecordingGenerator();
        using var batching = new BatchingEmbeddingGenerator(inner, batchSize: 2);
        var options = EmbeddingInput.Query;
        options.Dimensions = 64;

        await batching.GenerateAsync(["a", "b", "c"], options);

        inner.Seen.Should().HaveCount(2).And.OnlyContain(o => o != null && o.Dimensions == 64 && o.AdditionalProperties == null,
            "the marker is stripped and the rest of the options kept");
        EmbeddingInput.IsQuery(options).Should().BeTrue("the caller's options are not changed");
    }

    [Fact]
    public void Search_Embedder_arctic_is_accepted_and_brings_its_own_weight_and_floor_unless_they_are_set()
    {
        var validator = new FinNews.Hosting.FinNewsOptionsValidator();
        var arctic = new FinNews.Hosting.SearchOptions { Embedder = "arctic" };

        validator.Validate(null, arctic).Succeeded.Should().BeTrue();
        arctic.FusionSettings().VectorWeight.Should().Be(FusionSettings.ArcticVectorWeight);
        arctic.FusionSettings().VectorFloor.Should().Be(FusionSettings.ArcticVectorFloor);
        new FinNews.Hosting.SearchOptions { Embedder = "arctic", VectorWeight = 0.2, VectorFloor = 0.6 }.FusionSettings()
            .Should().Match<FusionSettings>(f => f.VectorWeight == 0.2 && f.VectorFloor == 0.6);
        new FinNews.Hosting.SearchOptions().FusionSettings().VectorWeight.Should().Be(0.15, "the hashing default is unchanged");
        validator.Validate(null, new FinNews.Hosting.SearchOptions { Embedder = "minilm" }).FailureMessage
            .Should().Contain("Search:Embedder = 'minilm'").And.Contain("arctic");
    }

    /// <summary>The stories in a fresh index with the arctic defaults (Search:Embedder = arctic, nothing else set).</summary>
    private async Task<SqliteSearchIndex> StoriesIndexAsync(TempDatabase database)
    {
        var index = new SqliteSearchIndex(database.ConnectionString, _embedder, ArcticEmbedder.ProviderName,
            SqliteSearchIndexOptions.DefaultsFor(ArcticEmbedder.ProviderName));
        await index.IndexAsync(Stories());
        return index;
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (var x in v)
        {
            sum += x * x;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>One model for the class: loading it takes about 1.4 s.</summary>
    public sealed class Model : IDisposable
    {
        public ArcticEmbedder Embedder { get; } = new();

        public void Dispose() => Embedder.Dispose();
    }

    private sealed class RecordingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public List<EmbeddingGenerationOptions?> Seen { get; } = [];

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Seen.Add(options);
            return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(_ => new Embedding<float>(new float[] { 1 }))));
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
