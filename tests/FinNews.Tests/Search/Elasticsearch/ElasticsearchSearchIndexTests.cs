using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>Behaviour of the Elasticsearch index against a scripted cluster on a loopback socket.</summary>
public sealed class ElasticsearchSearchIndexTests
{
    [Fact]
    public async Task A_429_bulk_item_is_retried_alone_with_backoff()
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
            [("a2#0", 400, "mapper_parsing_exception"), ("a3#0", 409, "version_conflict_engine_exception")]);
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
    public async Task A_whole_request_429_honours_Retry_After()
    {
        var rejected = 0;
        await using var es = await EsHarness.StartAsync(setup: c => c.Override = r =>
            r.Path == "/_bulk" && Interlocked.Increment(ref rejected) == 1
                ? new Reply(429, """{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}""",
                    new Dictionary<string, string> { ["Retry-After"] = "7" })
                : null);

        var report = await es.Index.IndexWithReportAsync(SearchTestData.Corpus());

        report.Failures.Should().BeEmpty();
        es.Bulks.Should().HaveCount(2);
        es.Time.Delays.Should().Equal(TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task On_8_17_hybrid_search_is_one_rrf_retriever_request_with_the_same_filters_everywhere()
    {
        await using var es = await EsHarness.StartAsync("8.17.0");
        es.Cluster.SearchHits.AddRange(["a1#0", "a2#0"]);
        var query = new SearchQuery("acme earnings", SearchMode.Hybrid, 5, SearchTestData.Jan1, SearchTestData.Jan1.AddDays(20), ["acme"], ["reuters"]);

        var hits = await es.Index.SearchAsync(query);

        es.Index.UsesRetrievers.Should().BeTrue();
        hits.Select(h => h.ArticleId).Should().Equal("a1", "a2");
        var body = es.Searches.Should().ContainSingle().Subject.Json!;
        es.Searches.Single().Path.Should().Be("/finnews-chunks/_search");
        var rrf = body["retriever"]!["rrf"]!;
        rrf["rank_constant"]!.GetValue<int>().Should().Be(60);
        rrf["rank_window_size"]!.GetValue<int>().Should().Be(body["size"]!.GetValue<int>());
        var standard = rrf["retrievers"]![0]!["standard"]!["query"]!["bool"]!;
        var knn = rrf["retrievers"]![1]!["knn"]!;
        knn["k"]!.GetValue<int>().Should().BeLessThanOrEqualTo(knn["num_candidates"]!.GetValue<int>());
        knn["query_vector"]!.AsArray().Should().HaveCount(64);
        JsonNode.DeepEquals(standard["filter"], knn["filter"]).Should().BeTrue();
        standard["filter"]!.ToJsonString().Should().Be(
            """[{"range":{"published_at":{"gte":"2025-01-01T00:00:00.000Z","lt":"2025-01-21T00:00:00.000Z"}}},{"terms":{"tickers":["ACME"]}},{"terms":{"feed_id":["reuters"]}}]""");
        body.AsObject().ContainsKey("collapse").Should().BeFalse("rrf cannot be combined with collapse");
    }

    [Fact]
    public async Task On_8_11_hybrid_search_runs_two_searches_and_fuses_them_by_reciprocal_rank()
    {
        await using var es = await EsHarness.StartAsync("8.11.1");
        es.Cluster.HitsByKind["query"] = ["a1#0", "a2#0", "a3#0"];
        es.Cluster.HitsByKind["knn"] = ["a3#0", "a1#1", "a4#0"];

        var hits = await es.Index.SearchAsync(new SearchQuery("rates", SearchMode.Hybrid, 10, Tickers: ["acme"]));

        es.Index.UsesRetrievers.Should().BeFalse();
        var searches = es.Searches.Select(s => s.Json!).ToList();
        searches.Should().HaveCount(2);
        searches[0].AsObject().ContainsKey("query").Should().BeTrue();
        searches[1].AsObject().ContainsKey("knn").Should().BeTrue();
        searches.Should().OnlyContain(s => !s.AsObject().ContainsKey("retriever"));
        JsonNode.DeepEquals(searches[0]["query"]!["bool"]!["filter"], searches[1]["knn"]!["filter"]).Should().BeTrue();

        // a3#0 is in both lists (1/63 + 1/61); a1#0 leads lexical (1/61); a2#0 and a1#1 tie at 1/62 and keep
        // first-seen order, but a1 is already taken by its better chunk; a4#0 comes last (1/63).
        hits.Select(h => h.ChunkId).Should().Equal("a3#0", "a1#0", "a2#0", "a4#0");
        hits[0].Score.Should().BeApproximately(1.0 / 61 + 1.0 / 63, 1e-12);
    }

    [Fact]
    public async Task Results_are_one_hit_per_article_best_chunk_first_up_to_the_limit()
    {
        await using var es = await EsHarness.StartAsync();
        es.Cluster.SearchHits.AddRange(["a5#2", "a5#0", "a1#0", "a5#1", "a2#0"]);

        var hits = await es.Index.SearchAsync(new SearchQuery("factory", SearchMode.Lexical, 2));

        hits.Select(h => (h.ArticleId, h.ChunkId)).Should().Equal(("a5", "a5#2"), ("a1", "a1#0"));
    }

    [Fact]
    public async Task Vector_search_sends_a_knn_clause_with_the_filters()
    {
        await using var es = await EsHarness.StartAsync();
        es.Cluster.SearchHits.Add("a1#0");

        await es.Index.SearchAsync(new SearchQuery("acme", SearchMode.Vector, 3, Sources: ["ft", "reuters"]));

        var body = es.Searches.Should().ContainSingle().Subject.Json!;
        body.AsObject().ContainsKey("query").Should().BeFalse();
        body["knn"]!["field"]!.GetValue<string>().Should().Be("vector");
        body["knn"]!["filter"]!.ToJsonString().Should().Be("""[{"terms":{"feed_id":["ft","reuters"]}}]""");
        body["_source"]!["includes"]!.AsArray().Select(n => n!.GetValue<string>()).Should().NotContain("vector");
    }

    [Fact]
    public async Task A_red_cluster_is_a_clear_error()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Health = "red");

        var act = () => es.Index.InitializeAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage($"Elasticsearch cluster at {es.Server.Url} is red: 2 unassigned shards*");
    }

    [Fact]
    public async Task An_existing_index_with_other_dimensions_asks_for_finnews_reindex()
    {
        await using var es = await EsHarness.StartAsync(setup: c =>
            c.Indices["finnews-chunks-2025.01"] = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 384, "hashing"));

        var act = () => es.Index.InitializeAsync();

        var message = (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message;
        message.Should().Contain("index 'finnews-chunks-2025.01' field 'vector' has dims '384', expected '64'")
            .And.Contain("_meta.finnews.dimensions is '384', expected '64'")
            .And.Contain("`finnews reindex`");
        es.Server.Requests.Should().NotContain(r => r.Method == "PUT", "nothing is written to a mismatched cluster");
    }

    [Fact]
    public async Task An_existing_template_with_another_similarity_asks_for_finnews_reindex()
    {
        var mappings = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 64, "hashing");
        mappings["properties"]!["vector"]!["similarity"] = "dot_product";
        await using var es = await EsHarness.StartAsync(setup: c => c.TemplateMappings = mappings);

        var act = () => es.Index.InitializeAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message
            .Should().Contain("index template 'finnews-chunks' field 'vector' has similarity 'dot_product', expected 'cosine'")
            .And.Contain("`finnews reindex`");
    }

    [Fact]
    public async Task Clear_deletes_the_monthly_indices_by_name_so_a_new_embedder_can_be_adopted()
    {
        await using var es = await EsHarness.StartAsync(setup: c =>
        {
            c.Indices["finnews-chunks-2025.01"] = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 384, "glove");
            c.Indices["finnews-chunks-2025.02"] = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 384, "glove");
        });

        await es.Index.ClearAsync();
        await es.Index.InitializeAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());

        es.Server.Requests.Should().ContainSingle(r => r.Method == "DELETE").Which.Path.Should().Be("/finnews-chunks-2025.01,finnews-chunks-2025.02");
        es.Cluster.Indices["finnews-chunks-2025.01"]["properties"]!["vector"]!["dims"]!.GetValue<int>().Should().Be(64);
    }

    [Fact]
    public async Task Reindexing_an_article_deletes_its_old_chunks_first()
    {
        await using var es = await EsHarness.StartAsync();
        var longVersion = SearchTestData.Article("x1", "Plant", "Summary", SearchTestData.Sentences(80), publishedAt: SearchTestData.Jan1);
        var shortVersion = longVersion with { Body = string.Empty };

        await es.Index.IndexAsync([longVersion]);
        es.Cluster.Documents.Keys.Should().HaveCountGreaterThan(1);
        await es.Index.IndexAsync([shortVersion]);

        es.Cluster.Documents.Keys.Should().Equal("x1#0");
        var order = es.Server.Requests.Select(r => r.Path).Where(p => p.Contains("_delete_by_query", StringComparison.Ordinal) || p == "/_bulk").ToList();
        order.Should().Equal("/finnews-chunks/_delete_by_query", "/_bulk", "/finnews-chunks/_delete_by_query", "/_bulk");
        var deletes = es.Server.Requests.Where(r => r.Path.EndsWith("_delete_by_query", StringComparison.Ordinal)).ToList();
        deletes.Should().OnlyContain(r => r.Query == "?conflicts=proceed&refresh=true");
    }

    [Fact]
    public async Task Chunks_go_to_the_index_of_their_publication_month_created_on_demand()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Indices["finnews-chunks-2025.01"] = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 64, "hashing"));
        var february = SearchTestData.Article("f1", "February story", publishedAt: new DateTimeOffset(2025, 2, 28, 23, 30, 0, TimeSpan.FromHours(-5)));

        await es.Index.IndexAsync([SearchTestData.Corpus()[0], february]);

        es.Server.Requests.Where(r => r.Method == "PUT" && !r.Path.StartsWith("/_index_template", StringComparison.Ordinal))
            .Select(r => r.Path).Should().Equal(new[] { "/finnews-chunks-2025.03" }, "23:30 at UTC-5 on 28 Feb is March in UTC");
        var create = es.Server.Requests.Single(r => r.Path == "/finnews-chunks-2025.03").Json!;
        create["aliases"]!.AsObject().Select(a => a.Key).Should().Equal("finnews-chunks");
        create["mappings"]!["properties"]!["vector"]!["index_options"]!.ToJsonString().Should().Be("""{"type":"int8_hnsw","m":16,"ef_construction":100}""");
        create["mappings"]!["properties"]!["text"]!["analyzer"]!.GetValue<string>().Should().Be("english");
        es.Cluster.Documents["f1#0"]["published_at"]!.GetValue<string>().Should().Be("2025-03-01T04:30:00.000Z");
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

        await es.Index.CountAsync();

        es.Server.Requests.Should().OnlyContain(r => r.Authorization == "Basic ZWxhc3RpYzpzM2NyZXQtcHc=");
        es.Logger.Lines.Should().OnlyContain(l => !l.Contains("s3cret-pw", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_with_credentials_in_the_url_are_refused_without_echoing_them()
    {
        var options = new ElasticsearchOptions { Url = "https://elastic:hunter2@es.example:9200", VectorIndexType = "int9_hnsw", BulkBatchSize = 0 };

        var errors = options.Validate();

        errors.Should().HaveCount(3);
        errors.Should().OnlyContain(e => !e.Contains("hunter2", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("Elasticsearch:VectorIndexType", StringComparison.Ordinal) && e.Contains("int9_hnsw", StringComparison.Ordinal));
        FluentActions.Invoking(() => new ElasticsearchSearchIndex(options, new HashingEmbedder(), "hashing", null, new RecordingDelayTimeProvider()))
            .Should().Throw<ArgumentException>().WithMessage("*Elasticsearch:BulkBatchSize must be positive, got 0*");
    }

    [Fact]
    public async Task Count_is_zero_before_anything_was_indexed()
    {
        await using var es = await EsHarness.StartAsync(setup: c => c.Override = r =>
            r.Path.EndsWith("_count", StringComparison.Ordinal) ? Reply.Error(404, "index_not_found_exception", "no such index [finnews-chunks]") : null);

        (await es.Index.CountAsync()).Should().Be(0);
    }

    [Fact]
    public void A_pinned_fingerprint_trusts_a_self_signed_certificate_and_nothing_else()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=es01", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var fingerprint = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        var withColons = string.Join(':', fingerprint.Chunk(2).Select(c => new string(c))).ToLowerInvariant();

        var pinned = ElasticsearchOptions.NormalizeFingerprint(withColons);
        pinned.Should().Be(fingerprint);
        ElasticsearchTransport.IsTrusted(certificate, null, SslPolicyErrors.RemoteCertificateChainErrors, pinned).Should().BeTrue();
        ElasticsearchTransport.IsTrusted(certificate, null, SslPolicyErrors.None, new string('A', 64)).Should().BeFalse();
        ElasticsearchTransport.IsTrusted(certificate, null, SslPolicyErrors.RemoteCertificateChainErrors, null).Should().BeFalse();
        ElasticsearchTransport.IsTrusted(certificate, null, SslPolicyErrors.None, null).Should().BeTrue();
    }

    [Theory]
    [InlineData("8.17.0", 8, 17, 0)]
    [InlineData("8.11.1", 8, 11, 1)]
    [InlineData("9.0.0-SNAPSHOT", 9, 0, 0)]
    [InlineData("8.16", 8, 16, 0)]
    public void Server_versions_are_parsed(string number, int major, int minor, int build)
    {
        ElasticsearchSearchIndex.ParseVersion(number).Should().Be(new Version(major, minor, build));
    }
}
