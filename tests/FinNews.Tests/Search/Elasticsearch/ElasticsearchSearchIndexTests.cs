using System.Text.Json.Nodes;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>Behaviour of the Elasticsearch index, driving the official client against a scripted 9.x cluster on a loopback socket.</summary>
public sealed class ElasticsearchSearchIndexTests
{
    private static readonly SearchQuery Filtered =
        new("acme earnings", SearchMode.Hybrid, 5, SearchTestData.Jan1, SearchTestData.Jan1.AddDays(20), ["acme"], ["reuters"]);

    /// <summary>The knn clause of a search body (the client writes a single clause as an object, several as an array).</summary>
    private static JsonNode Knn(JsonNode body) => body["knn"] is JsonArray array ? array[0]! : body["knn"]!;

    [Fact]
    public async Task The_client_sends_compressed_vendored_json_and_the_loopback_answers_like_a_cluster()
    {
        await using var es = await EsHarness.StartAsync();

        await es.Index.IndexAsync(SearchTestData.Corpus());

        var withBody = es.Server.Requests.Where(r => r.Body.Length > 0).ToList();
        withBody.Should().NotBeEmpty().And.OnlyContain(r => r.ContentEncoding == "gzip", "the 9.x client compresses request bodies");
        withBody.Where(r => r.Path != "/_bulk").Should().OnlyContain(r => r.ContentType == EsLoopbackServer.VendoredJson);
        // The client sends _bulk as plain NDJSON asking for plain JSON; everything else in compatibility mode.
        es.Bulks.Should().OnlyContain(r => r.ContentType == "application/x-ndjson" && r.Accept == "application/json");
        es.Server.Requests.Where(r => r.Path != "/_bulk").Should().OnlyContain(r => r.Accept == EsLoopbackServer.VendoredJson);
        es.Bulks.Should().OnlyContain(r => r.WireBytes < r.Body.Length, "gzip shrinks the JSON");
    }

    [Fact]
    public async Task A_server_without_the_product_header_is_refused_by_the_client()
    {
        await using var es = await EsHarness.StartAsync();
        es.Server.SendProductHeader = false;

        var act = () => es.Index.InitializeAsync();

        await act.Should().ThrowAsync<Exception>();
    }

    [Fact]
    public async Task Elasticsearch_8_is_refused_with_a_clear_message()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Version = "8.17.0");

        var act = () => es.Index.InitializeAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message
            .Should().Contain("Elasticsearch 8.17.0").And.Contain("9.x and Serverless, not 8.x");
    }

    [Fact]
    public async Task On_a_basic_licence_hybrid_is_one_msearch_fused_client_side_and_no_request_mentions_rrf()
    {
        // Even with a retriever configured: basic clusters refuse rrf and linear, so the client must not send them.
        await using var es = await EsHarness.StartAsync("basic", o => o.HybridRetriever = "rrf");
        await es.Index.IndexAsync(SearchTestData.Corpus());

        var run = await es.Index.ExplainAsync(Filtered);
        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            await es.Index.SearchAsync(Filtered with { Mode = mode });
        }

        es.Server.Requests.Should().Contain(r => r.Path == "/_license");
        es.Index.HybridPath.Should().Be(HybridPath.ClientFusion);
        es.Index.HybridPathReason.Should().Contain("Enterprise or trial").And.Contain("'basic'");
        es.Server.Requests.Should().OnlyContain(r => !r.BodyText.Contains("rrf", StringComparison.Ordinal) && !r.BodyText.Contains("retriever", StringComparison.Ordinal));
        var msearch = es.Searches.First();
        msearch.Path.Should().Be("/finnews-chunks/_msearch");
        var lines = msearch.Lines.Select(l => JsonNode.Parse(l)!).ToList();
        lines.Should().HaveCount(4);
        var lexicalFilter = lines[1]["query"]!["bool"]!["filter"]!;
        JsonNode.DeepEquals(lexicalFilter, Knn(lines[3])["filter"]).Should().BeTrue("both searches draw from the same documents");
        lexicalFilter.ToJsonString().Should().Be(
            """[{"range":{"published_at":{"gte":"2025-01-01T00:00:00.000Z","lt":"2025-01-21T00:00:00.000Z"}}},{"terms":{"tickers":["ACME"]}},{"terms":{"feed_id":["reuters"]}}]""");
        run.Explanation.Path.Should().StartWith("_msearch").And.Contain("fused client-side");
        run.Explanation.Fusion.Should().Be("convex mix of min-max normalized scores (lexical 0.85, vector 0.15); vector-only hits need cosine ≥ 0.25");
        run.Explanation.Backend.Should().Be("Elasticsearch 9.1.0, licence basic");
        run.Explanation.Notes.Should().Contain(n => n.Contains("needs an Enterprise or trial licence", StringComparison.Ordinal));
        run.Hits.Select(h => h.ArticleId).Should().Equal("a1");
    }

    [Fact]
    public async Task On_an_enterprise_licence_the_configured_rrf_retriever_runs_server_side_with_the_same_filters_and_weights()
    {
        await using var es = await EsHarness.StartAsync("enterprise", o => o.HybridRetriever = "rrf",
            fusion: new FusionSettings(HybridFusion.ReciprocalRank, 0.3, 40));
        await es.Index.IndexAsync(SearchTestData.Corpus());

        var run = await es.Index.ExplainAsync(Filtered);

        es.Index.HybridPath.Should().Be(HybridPath.RrfRetriever);
        var search = es.Searches.Should().ContainSingle().Subject;
        search.Path.Should().Be("/finnews-chunks/_search");
        var rrf = search.Json!["retriever"]!["rrf"]!;
        rrf["rank_constant"]!.GetValue<int>().Should().Be(40);
        rrf["rank_window_size"]!.GetValue<int>().Should().Be(search.Json["size"]!.GetValue<int>());
        rrf["retrievers"]![0]!["weight"]!.GetValue<double>().Should().BeApproximately(1.4, 1e-6);
        rrf["retrievers"]![1]!["weight"]!.GetValue<double>().Should().BeApproximately(0.6, 1e-6);
        var standard = rrf["retrievers"]![0]!["retriever"]!["standard"]!["query"]!["bool"]!;
        var knn = rrf["retrievers"]![1]!["retriever"]!["knn"]!;
        JsonNode.DeepEquals(standard["filter"], knn["filter"]).Should().BeTrue();
        knn["k"]!.GetValue<int>().Should().BeLessThanOrEqualTo(knn["num_candidates"]!.GetValue<int>());
        search.Json.AsObject().ContainsKey("collapse").Should().BeFalse("rrf cannot be combined with collapse");
        run.Explanation.Path.Should().Contain("server-side rrf retriever");
        run.Explanation.Fusion.Should().Contain("k = 40").And.Contain("lexical 1.4").And.Contain("vector 0.6");
    }

    [Fact]
    public async Task On_an_enterprise_licence_without_a_configured_retriever_hybrid_still_fuses_client_side()
    {
        await using var es = await EsHarness.StartAsync("enterprise");

        await es.Index.SearchAsync(Filtered);

        es.Index.HybridPath.Should().Be(HybridPath.ClientFusion);
        es.Index.HybridPathReason.Should().BeNull();
        es.Searches.Should().ContainSingle().Which.Path.Should().EndWith("/_msearch");
    }

    [Fact]
    public async Task On_a_trial_licence_auto_picks_the_linear_retriever_for_convex_fusion_with_minmax_weights()
    {
        await using var es = await EsHarness.StartAsync("trial", o => o.HybridRetriever = "auto");

        await es.Index.SearchAsync(Filtered);

        es.Index.HybridPath.Should().Be(HybridPath.LinearRetriever);
        var linear = es.Searches.Should().ContainSingle().Subject.Json!["retriever"]!["linear"]!;
        linear["retrievers"]!.AsArray().Select(r => (r!["weight"]!.GetValue<double>(), r["normalizer"]!.GetValue<string>()))
            .Should().BeEquivalentTo([(0.85, "minmax"), (0.15, "minmax")], o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6)).WhenTypeIs<double>());
    }

    [Theory]
    [InlineData("rrf", HybridFusion.ReciprocalRank)]
    [InlineData("linear", HybridFusion.Convex)]
    public async Task The_server_side_retriever_and_client_side_fusion_give_the_same_order_on_the_same_candidates(string retriever, HybridFusion fusion)
    {
        var settings = new FusionSettings(fusion, 0.4);
        await using var client = await EsHarness.StartAsync("enterprise", fusion: settings);
        await using var server = await client.SiblingAsync(o => o.HybridRetriever = retriever, settings);
        await client.Index.IndexAsync(SearchTestData.Corpus());

        foreach (var text in new[] { "acme earnings", "novalux chip factory", "rates costs freight", "acme novalux plant ohio" })
        {
            var viaClient = await client.Index.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10));
            var viaServer = await server.Index.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10));
            viaServer.Select(h => h.ChunkId).Should().Equal(viaClient.Select(h => h.ChunkId), text);
        }

        server.Index.HybridPath.Should().Be(retriever == "rrf" ? HybridPath.RrfRetriever : HybridPath.LinearRetriever);
    }

    [Theory]
    [InlineData(HybridFusion.Convex, 0.15)]
    [InlineData(HybridFusion.Convex, 0.5)]
    [InlineData(HybridFusion.ReciprocalRank, 0.15)]
    [InlineData(HybridFusion.ReciprocalRank, 0.5)]
    public async Task The_basic_path_ranks_exactly_as_the_embedded_index_given_the_same_candidates(HybridFusion fusion, double weight)
    {
        // One chunk per article, so the embedded index's lexical and vector result lists are its whole candidate lists.
        var corpus = SearchTestData.Corpus().Select(a => a with { Body = string.Empty }).ToList();
        var settings = new FusionSettings(fusion, weight);
        using var db = new TempDatabase();
        using var embedded = new SqliteSearchIndex(db.ConnectionString, new HashingEmbedder(64), HashingEmbedder.ProviderName,
            SqliteSearchIndexOptions.Default with { Fusion = fusion, VectorWeight = weight });
        await embedded.IndexAsync(corpus);
        await using var es = await EsHarness.StartAsync(fusion: settings);
        await es.Index.IndexAsync(corpus);

        foreach (var text in new[] { "acme earnings", "chip shares data centers", "interest rates", "freight canal carriers analysts" })
        {
            // The cluster answers the _msearch with the embedded index's own lexical and vector candidates, scored as
            // Elasticsearch scores them (cosine knn: (1 + cos) / 2), so only the fusion differs if anything does.
            var lexical = await embedded.SearchAsync(new SearchQuery(text, SearchMode.Lexical, 50));
            var vector = await embedded.SearchAsync(new SearchQuery(text, SearchMode.Vector, 50));
            es.Cluster.Override = r => r.Path.EndsWith("/_msearch", StringComparison.Ordinal)
                ? Reply.Json(new JsonObject { ["took"] = 1, ["responses"] = new JsonArray(Response(lexical, s => s), Response(vector, s => (1 + s) / 2)) })
                : null;

            var expected = await embedded.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10));
            var actual = await es.Index.SearchAsync(new SearchQuery(text, SearchMode.Hybrid, 10));

            actual.Select(h => h.ChunkId).Should().Equal(expected.Select(h => h.ChunkId), text);
            actual.Select(h => h.Score).Should().Equal(expected.Select(h => h.Score), (a, b) => Math.Abs(a - b) < 1e-9);
        }

        static JsonObject Response(IReadOnlyList<SearchHit> hits, Func<double, double> score) => new()
        {
            ["took"] = 1,
            ["timed_out"] = false,
            ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["skipped"] = 0, ["failed"] = 0 },
            ["hits"] = new JsonObject
            {
                ["max_score"] = null,
                ["hits"] = new JsonArray([.. hits.Select(h => (JsonNode)new JsonObject
                {
                    ["_index"] = "finnews-chunks-2025.01",
                    ["_id"] = h.ChunkId,
                    ["_score"] = score(h.Score),
                    ["_source"] = new JsonObject { ["article_id"] = h.ArticleId, ["chunk_id"] = h.ChunkId, ["text"] = h.Text },
                })]),
            },
            ["status"] = 200,
        };
    }

    [Fact]
    public async Task A_429_bulk_item_is_retried_alone_with_backoff_from_the_injected_clock()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.BulkItemStatus = (id, attempt) => id == "a2#0" && attempt == 1 ? 429 : 201);

        var report = await es.Index.IndexWithReportAsync(SearchTestData.Corpus());

        report.Failures.Should().BeEmpty();
        report.Retried.Should().Be(1);
        report.Indexed.Should().Be(report.Chunks);
        var bulks = es.Bulks.ToList();
        bulks.Should().HaveCount(2);
        bulks[1].Lines.Should().HaveCount(2);
        JsonNode.Parse(bulks[1].Lines[0])!["index"]!["_id"]!.GetValue<string>().Should().Be("a2#0");
        es.Cluster.BulkAttempts("a1#0").Should().Be(1);
        // Equal jitter on the first attempt: between half and all of the 100 ms base delay.
        es.Time.Delays.Should().ContainSingle().Which.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Bulk_400_and_409_items_are_reported_and_not_retried()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.BulkItemStatus = (id, _) => id switch
        {
            "a2#0" => 400,
            "a3#0" => 409,
            _ => 201,
        });

        var report = await es.Index.IndexWithReportAsync(SearchTestData.Corpus());

        es.Bulks.Should().ContainSingle();
        report.Failures.Select(f => (f.ChunkId, f.Status, f.ErrorType)).Should().BeEquivalentTo(
            [("a2#0", 400, "document_parsing_exception"), ("a3#0", 409, "version_conflict_engine_exception")]);
        report.Failures.Should().AllSatisfy(f => f.IsTransient.Should().BeFalse());
        report.Indexed.Should().Be(report.Chunks - 2);
        es.Logger.Lines.Should().Contain(l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("a2#0", StringComparison.Ordinal));

        // IndexAsync does not throw for permanent item failures while others succeeded: a bad chunk must not block the queue.
        await es.Index.IndexAsync(SearchTestData.Corpus());
    }

    [Fact]
    public async Task IndexAsync_throws_when_every_item_is_rejected()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.BulkItemStatus = (_, _) => 400);

        var act = () => es.Index.IndexAsync(SearchTestData.Corpus());

        var report = (await act.Should().ThrowAsync<ElasticsearchBulkException>()).Which.Report;
        report.Indexed.Should().Be(0);
        report.Failures.Should().HaveCount(report.Chunks).And.OnlyContain(f => f.Status == 400);
    }

    [Fact]
    public async Task A_bulk_item_still_rejected_with_429_after_every_retry_fails_the_batch()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.BulkItemStatus = (id, _) => id == "a1#0" ? 429 : 201);

        var act = () => es.Index.IndexAsync(SearchTestData.Corpus());

        var thrown = (await act.Should().ThrowAsync<ElasticsearchBulkException>()).Which;
        thrown.Message.Should().Contain("stay unindexed");
        thrown.Report.Failures.Should().ContainSingle(f => f.ChunkId == "a1#0" && f.IsTransient);
        es.Cluster.BulkAttempts("a1#0").Should().Be(4, "one attempt and MaxRetries = 3 retries");
        es.Time.Delays.Should().HaveCount(3);
    }

    [Fact]
    public async Task A_whole_bulk_request_answered_429_is_retried()
    {
        var rejected = 0;
        await using var es = await EsHarness.StartAsync(setup: c => c.Override = r =>
            r.Path == "/_bulk" && Interlocked.Increment(ref rejected) == 1
                ? Reply.Error(429, "es_rejected_execution_exception", "rejected execution of coordinating operation")
                : null);

        var report = await es.Index.IndexWithReportAsync(SearchTestData.Corpus());

        report.Failures.Should().BeEmpty();
        es.Bulks.Should().HaveCount(2);
        es.Time.Delays.Should().ContainSingle();
    }

    [Fact]
    public async Task Results_are_one_hit_per_article_best_chunk_first_up_to_the_limit()
    {
        await using var es = await EsHarness.StartAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());

        var hits = await es.Index.SearchAsync(new SearchQuery("factory line capacity plant", SearchMode.Lexical, 2));

        hits.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems().And.HaveCount(1).And.Equal("a5");
        hits[0].Text.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Vector_search_sends_a_knn_clause_with_the_filters_and_reports_cosines()
    {
        await using var es = await EsHarness.StartAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());

        var hits = await es.Index.SearchAsync(new SearchQuery("acme", SearchMode.Vector, 3, Sources: ["ft", "reuters"]));

        var body = es.Searches.Should().ContainSingle().Subject.Json!;
        body.AsObject().ContainsKey("query").Should().BeFalse();
        Knn(body)["field"]!.GetValue<string>().Should().Be("vector");
        Knn(body)["filter"]!.ToJsonString().Should().Be("""{"terms":{"feed_id":["ft","reuters"]}}""", "the client writes a single filter as an object");
        body["_source"]!["includes"]!.AsArray().Select(n => n!.GetValue<string>()).Should().NotContain("vector");
        hits.Should().OnlyContain(h => h.Score >= -1 && h.Score <= 1);
        hits.Select(h => h.ArticleId).Should().BeSubsetOf(["a1", "a3", "a4"]);
    }

    [Fact]
    public async Task A_red_cluster_is_a_clear_error()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Health = "red");

        var act = () => es.Index.InitializeAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage($"Elasticsearch cluster at {es.Server.Url.TrimEnd('/')} is red: 2 unassigned shards*");
    }

    [Fact]
    public async Task An_existing_index_with_other_dimensions_asks_for_finnews_reindex()
    {
        await using var seed = await EsHarness.StartAsync(dimensions: 32);
        await seed.Index.IndexAsync(SearchTestData.Corpus());
        await using var es = await seed.SiblingAsync();

        var act = () => es.Index.InitializeAsync();

        var message = (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message;
        message.Should().Contain("index 'finnews-chunks-2025.01' field 'vector' has dims '32', expected '64'")
            .And.Contain("_meta.finnews.dimensions is '32', expected '64'")
            .And.Contain("`finnews reindex`");
    }

    [Fact]
    public async Task Clear_deletes_the_monthly_indices_by_name_so_a_new_embedder_can_be_adopted()
    {
        await using var seed = await EsHarness.StartAsync(dimensions: 32);
        await seed.Index.IndexAsync([.. SearchTestData.Corpus(), SearchTestData.Article("f1", "February", publishedAt: SearchTestData.Jan1.AddMonths(1))]);
        await using var es = await seed.SiblingAsync();

        await es.Index.ClearAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());

        es.Server.Requests.Should().ContainSingle(r => r.Method == "DELETE").Which.Path.Should().Be("/finnews-chunks-2025.01,finnews-chunks-2025.02");
        es.Cluster.Indices["finnews-chunks-2025.01"]["mappings"]!["properties"]!["vector"]!["dims"]!.GetValue<int>().Should().Be(64);
    }

    [Fact]
    public async Task Reindexing_a_shorter_article_deletes_its_stale_chunks_after_writing_the_new_ones()
    {
        await using var es = await EsHarness.StartAsync();
        var longVersion = SearchTestData.Article("x1", "Plant", "Summary", SearchTestData.Sentences(80), publishedAt: SearchTestData.Jan1);
        var shortVersion = longVersion with { Body = string.Empty };

        await es.Index.IndexAsync([longVersion]);
        es.Cluster.Documents.Keys.Should().HaveCountGreaterThan(1);
        await es.Index.IndexAsync([shortVersion]);

        es.Cluster.Documents.Keys.Should().Equal("x1#0");
        var order = es.Server.Requests.Select(r => r.Path).Where(p => p.Contains("_delete_by_query", StringComparison.Ordinal) || p == "/_bulk").ToList();
        order.Should().Equal("/_bulk", "/finnews-chunks/_delete_by_query", "/_bulk", "/finnews-chunks/_delete_by_query");
        es.Server.Requests.Where(r => r.Path.EndsWith("_delete_by_query", StringComparison.Ordinal))
            .Should().OnlyContain(r => r.Query.Contains("conflicts=proceed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Chunks_go_to_the_index_of_their_publication_month_created_on_demand_with_the_template_layout()
    {
        await using var es = await EsHarness.StartAsync(configure: o => o.VectorIndexType = "bbq_hnsw");
        var february = SearchTestData.Article("f1", "February story", publishedAt: new DateTimeOffset(2025, 2, 28, 23, 30, 0, TimeSpan.FromHours(-5)));

        await es.Index.IndexAsync([SearchTestData.Corpus()[0], february]);

        es.Server.Requests.Where(r => r.Method == "PUT" && !r.Path.StartsWith("/_index_template", StringComparison.Ordinal))
            .Select(r => r.Path).Should().Equal(["/finnews-chunks-2025.01", "/finnews-chunks-2025.03"], "23:30 at UTC-5 on 28 Feb is March in UTC");
        var create = es.Server.Requests.Single(r => r.Path == "/finnews-chunks-2025.03").Json!;
        create["aliases"]!.AsObject().Select(a => a.Key).Should().Equal("finnews-chunks");
        create["mappings"]!["properties"]!["vector"]!["index_options"]!.ToJsonString().Should().Be("""{"ef_construction":100,"m":16,"type":"bbq_hnsw"}""");
        create["mappings"]!["properties"]!["vector"]!["similarity"]!.GetValue<string>().Should().Be("cosine");
        create["mappings"]!["properties"]!["text"]!["analyzer"]!.GetValue<string>().Should().Be("finnews_english");
        create["mappings"]!["dynamic"]!.GetValue<string>().Should().Be("strict");
        create["settings"]!["analysis"]!["analyzer"]!["finnews_english"]!["filter"]!.AsArray().Select(f => f!.GetValue<string>())
            .Should().Equal("finnews_possessive", "lowercase", "asciifolding", "finnews_stop", "finnews_stemmer");
        es.Cluster.Documents["f1#0"].Source["published_at"]!.GetValue<string>().Should().Be("2025-03-01T04:30:00.000Z");
        es.Cluster.Templates["finnews-chunks"]["index_patterns"]!.ToJsonString().Should().Contain("finnews-chunks-*");
    }

    [Fact]
    public async Task Retention_drops_whole_months_before_the_cutoff_by_name()
    {
        await using var es = await EsHarness.StartAsync();
        await es.Index.IndexAsync([.. SearchTestData.Corpus(),
            SearchTestData.Article("f1", "February", publishedAt: SearchTestData.Jan1.AddMonths(1)),
            SearchTestData.Article("m1", "March", publishedAt: SearchTestData.Jan1.AddMonths(2))]);

        var dropped = await es.Index.DropBeforeAsync(new DateTimeOffset(2025, 3, 15, 0, 0, 0, TimeSpan.Zero));

        dropped.Should().Be(2);
        es.Server.Requests.Should().ContainSingle(r => r.Method == "DELETE").Which.Path.Should().Be("/finnews-chunks-2025.01,finnews-chunks-2025.02");
        es.Cluster.Documents.Keys.Should().Equal("m1#0");
    }

    [Fact]
    public async Task An_index_created_meanwhile_by_another_writer_is_tolerated()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Override = r =>
            r.Method == "PUT" && r.Path == "/finnews-chunks-2025.01"
                ? Reply.Error(400, "resource_already_exists_exception", "index [finnews-chunks-2025.01/abc] already exists")
                : null);

        var report = await es.Index.IndexWithReportAsync(SearchTestData.Corpus());

        report.Failures.Should().BeEmpty();
    }

    [Fact]
    public async Task The_api_key_is_sent_on_every_request_and_never_logged()
    {
        await using var es = await EsHarness.StartAsync();

        await ElasticsearchRequestSchemaTests.RunEveryOperationAsync(es);
        es.Cluster.Override = r => r.Path.EndsWith("_count", StringComparison.Ordinal)
            ? Reply.Error(403, "security_exception", "action [indices:data/read/search] is unauthorized")
            : null;
        var failure = await FluentActions.Awaiting(() => es.Index.CountAsync()).Should().ThrowAsync<ElasticsearchException>();

        es.Server.Requests.Should().OnlyContain(r => r.Authorization == "ApiKey " + EsHarness.ApiKey);
        failure.Which.Message.Should().Contain("403").And.Contain("security_exception").And.NotContain(EsHarness.ApiKey);
        failure.Which.StatusCode.Should().Be(403);
        es.Logger.Lines.Should().NotBeEmpty().And.OnlyContain(l => !l.Contains(EsHarness.ApiKey, StringComparison.Ordinal) && !l.Contains("ApiKey ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Basic_credentials_are_sent_when_no_api_key_is_configured()
    {
        await using var es = await EsHarness.StartAsync(configure: o =>
        {
            o.ApiKey = null;
            o.Username = "elastic";
            o.Password = "s3cret-pw";
        });

        await es.Index.InitializeAsync();
        await es.Index.CountAsync();

        es.Server.Requests.Should().OnlyContain(r => r.Authorization == "Basic ZWxhc3RpYzpzM2NyZXQtcHc=");
        es.Logger.Lines.Should().OnlyContain(l => !l.Contains("s3cret-pw", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_with_credentials_in_the_url_are_refused_without_echoing_them()
    {
        var options = new ElasticsearchOptions { Url = "https://elastic:hunter2@es.example:9200", VectorIndexType = "int9_hnsw", BulkBatchSize = 0, HybridRetriever = "magic" };

        var errors = options.Validate();

        errors.Should().HaveCount(4);
        errors.Should().OnlyContain(e => !e.Contains("hunter2", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Elasticsearch:VectorIndexType", StringComparison.Ordinal) && e.Contains("int9_hnsw", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Elasticsearch:HybridRetriever", StringComparison.Ordinal) && e.Contains("magic", StringComparison.Ordinal));
        FluentActions.Invoking(() => new ElasticsearchSearchIndex(options, new HashingEmbedder(), "hashing", FusionSettings.Default, null, new RecordingDelayTimeProvider()))
            .Should().Throw<ArgumentException>().WithMessage("*Elasticsearch:BulkBatchSize must be positive, got 0*");
    }

    [Fact]
    public async Task Count_is_zero_before_anything_was_indexed()
    {
        await using var es = await EsHarness.StartAsync();

        (await es.Index.CountAsync()).Should().Be(0);
        (await es.Index.SearchAsync(new SearchQuery("anything"))).Should().BeEmpty();
    }

    [Theory]
    [InlineData("basic", "active", false, false)]
    [InlineData("gold", "active", false, false)]
    [InlineData("platinum", "active", false, false)]
    [InlineData("enterprise", "active", false, true)]
    [InlineData("trial", "active", false, true)]
    [InlineData("enterprise", "expired", false, false)]
    [InlineData(null, null, true, true)]
    public void Retrievers_need_an_active_enterprise_or_trial_licence_or_serverless(string? type, string? status, bool serverless, bool allowed)
    {
        var cluster = new ClusterFacts("9.1.0", serverless, type, status);

        cluster.AllowsRetrievers.Should().Be(allowed);
        HybridPlanner.Choose("rrf", HybridFusion.Convex, cluster).Path.Should().Be(allowed ? HybridPath.RrfRetriever : HybridPath.ClientFusion);
        HybridPlanner.Choose("none", HybridFusion.Convex, cluster).Should().Be((HybridPath.ClientFusion, (string?)null));
        HybridPlanner.Choose("auto", HybridFusion.ReciprocalRank, cluster).Path.Should().Be(allowed ? HybridPath.RrfRetriever : HybridPath.ClientFusion);
    }
}
