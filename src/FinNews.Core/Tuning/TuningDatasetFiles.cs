using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Tuning;

/// <summary>Where a dataset was written and what checking the written files found.</summary>
/// <param name="TrainingFile">train.jsonl.</param>
/// <param name="ValidationFile">validation.jsonl, or null when there is no validation set.</param>
/// <param name="ManifestFile">manifest.json: per-example provenance and tokens, refusals, duplicates, totals.</param>
/// <param name="Training">The training file as checked (format, limits, exact token total).</param>
/// <param name="Validation">The validation file as checked, or null.</param>
public sealed record WrittenDataset(string TrainingFile, string? ValidationFile, string ManifestFile, FormatReport Training, FormatReport? Validation)
{
    /// <summary>True when every written file passes the format and limit checks.</summary>
    public bool Valid => Training.Valid && (Validation?.Valid ?? true);
}

/// <summary>
/// Writes a <see cref="TuningDatasetBuild"/> as <c>train.jsonl</c> and <c>validation.jsonl</c> (one
/// <c>{"messages": [...]}</c> per line, nothing else: the same file serves OpenAI fine-tuning and LoRA trainers that read
/// <c>messages</c>) and <c>manifest.json</c> beside them, then checks the files as written with
/// <see cref="FineTuningFormat"/>. Each file is written to a temporary name and moved into place, so a reader never
/// sees half a file.
/// </summary>
public static class TuningDatasetFiles
{
    /// <summary>Writes the dataset into <paramref name="folder"/> (created if missing) and checks it.</summary>
    public static WrittenDataset Write(TuningDatasetBuild build, string folder)
    {
        ArgumentNullException.ThrowIfNull(build);
        Directory.CreateDirectory(folder);
        var training = Path.Combine(folder, "train.jsonl");
        var validation = Path.Combine(folder, "validation.jsonl");
        WriteLines(training, build.Training);
        if (build.Validation.Count > 0)
        {
            WriteLines(validation, build.Validation);
        }
        else if (File.Exists(validation))
        {
            // A stale validation file from an earlier build would be uploaded with this one.
            File.Delete(validation);
        }

        var trainingReport = FineTuningFormat.CheckFile(training, build.Model, training: true);
        var validationReport = build.Validation.Count > 0 ? FineTuningFormat.CheckFile(validation, build.Model, training: false) : null;
        var manifest = new DatasetManifest(
            build.Model,
            build.Encoding,
            build.Briefings,
            new FileSummary("train.jsonl", trainingReport.Examples, trainingReport.Tokens, trainingReport.MaxExampleTokens, trainingReport.Bytes,
                trainingReport.Errors.Select(e => e.ToString()).ToList()),
            validationReport is null ? null : new FileSummary("validation.jsonl", validationReport.Examples, validationReport.Tokens,
                validationReport.MaxExampleTokens, validationReport.Bytes, validationReport.Errors.Select(e => e.ToString()).ToList()),
            [.. Rows("train.jsonl", build.Training), .. Rows("validation.jsonl", build.Validation)],
            build.Refused,
            build.Duplicates,
            build.Notes);
        var manifestPath = Path.Combine(folder, "manifest.json");
        WriteAtomically(manifestPath, JsonSerializer.Serialize(manifest, ManifestOptions.GetTypeInfo(typeof(DatasetManifest))));
        return new WrittenDataset(training, validationReport is null ? null : validation, manifestPath, trainingReport, validationReport);
    }

    /// <summary>Reads a manifest written by <see cref="Write"/>.</summary>
    public static DatasetManifest? ReadManifest(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ManifestOptions.GetTypeInfo(typeof(DatasetManifest))) as DatasetManifest;

    private static IEnumerable<ExampleRow> Rows(string file, IReadOnlyList<TuningExample> examples) =>
        examples.Select((e, i) => new ExampleRow(file, i + 1, e.BriefingId, e.Section, e.AsOf, e.Edited, e.Tokens, e.Sources, e.Distractors, e.Hash));

    private static void WriteLines(string path, IReadOnlyList<TuningExample> examples)
    {
        var text = new StringBuilder();
        foreach (var e in examples)
        {
            text.Append(JsonSerializer.Serialize(new TrainingLine(e.Messages), LineOptions.GetTypeInfo(typeof(TrainingLine)))).Append('\n');
        }

        WriteAtomically(path, text.ToString());
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    // Readable text in the files (no \u0026 for &): the content is JSON-string-escaped either way.
    private static readonly JsonSerializerOptions LineOptions = new(TuningJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    private static readonly JsonSerializerOptions ManifestOptions = new(TuningManifestJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

/// <summary>manifest.json of a dataset.</summary>
public sealed record DatasetManifest(
    string Model,
    string Encoding,
    int ApprovedBriefings,
    FileSummary Training,
    FileSummary? Validation,
    IReadOnlyList<ExampleRow> Examples,
    IReadOnlyList<RefusedExample> Refused,
    IReadOnlyList<DuplicateExample> Duplicates,
    IReadOnlyList<string> Notes);

/// <summary>A written file as checked.</summary>
public sealed record FileSummary(string File, int Examples, long Tokens, int MaxExampleTokens, long Bytes, IReadOnlyList<string> Errors);

/// <summary>Where an example came from and how big it is.</summary>
public sealed record ExampleRow(string File, int Line, string BriefingId, string Section, DateTimeOffset AsOf, bool Edited, int Tokens,
    int Sources, int Distractors, string Hash);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DatasetManifest))]
internal sealed partial class TuningManifestJsonContext : JsonSerializerContext;
