using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FinNews.Core.Models;

/// <summary>What a change to config/models.json did.</summary>
/// <param name="Profile">The profile changed or added.</param>
/// <param name="OldModel">Its model before (null when the profile was added).</param>
/// <param name="NewModel">Its model now.</param>
/// <param name="Backup">Copy of the whole file as it was before the change.</param>
/// <param name="Changed">False when the profile already had that model (nothing was written).</param>
public sealed record ModelsFileChange(string Profile, string? OldModel, string NewModel, string? Backup, bool Changed);

/// <summary>
/// Changes config/models.json in place without losing its comments or layout: the one value is replaced in the text
/// (found with <see cref="Utf8JsonReader"/>, which reports where each token sits), the old model id is kept in the
/// profile's <c>previousModel</c>, the previous file is copied to <c>models.json.bak</c>, and the new text is checked
/// (<see cref="ModelProfiles.Parse"/>) before it replaces the file by an atomic rename of a temporary file beside it.
/// Concurrent editors are serialized by an exclusive lock file.
/// </summary>
public static class ModelsFileEditor
{
    /// <summary>Model ids are single tokens of printable characters: an id with spaces or quotes is a mistake.</summary>
    public static string? InvalidModelId(string model) =>
        string.IsNullOrWhiteSpace(model) ? "the model id is empty"
        : model.Length > 256 ? "the model id is longer than 256 characters"
        : model.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '\\') ? $"the model id '{model}' contains spaces, quotes or control characters"
        : null;

    /// <summary>Sets a profile's model, keeping the old one in <c>previousModel</c>.</summary>
    /// <exception cref="KeyNotFoundException">No such profile (nothing is written).</exception>
    /// <exception cref="InvalidDataException">The file is not valid, before or after the change (nothing is written).</exception>
    public static ModelsFileChange SetModel(string path, string profile, string model)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(model);
        return Locked(path, text =>
        {
            var profiles = ModelProfiles.Parse(text, path);
            var current = profiles.Find(profile)
                ?? throw new KeyNotFoundException($"{path} has no profile '{profile}'; profiles: {string.Join(", ", profiles.All.Select(p => p.Name))}.");
            if (current.Model == model)
            {
                return (null, new ModelsFileChange(profile, current.Model, model, null, false));
            }

            var spots = Locate(text, profile);
            var at = spots.Model!.Value;
            var edits = new List<(int Start, int Length, string Text)> { (at.Start, at.Length, Quote(model)) };
            edits.Add(spots.PreviousModel is { } previous
                ? (previous.Start, previous.Length, Quote(current.Model))
                : (at.Start + at.Length, 0, $",\n{spots.Indent}\"previousModel\": {Quote(current.Model)}"));
            var edited = new StringBuilder(text);
            // From the end of the text backwards, so earlier offsets stay valid.
            foreach (var (start, length, replacement) in edits.OrderByDescending(e => e.Start))
            {
                edited.Remove(start, length).Insert(start, replacement);
            }

            return (edited.ToString(), new ModelsFileChange(profile, current.Model, model, null, true));
        });
    }

    /// <summary>
    /// Adds (or updates) a profile that copies <paramref name="template"/>'s settings with another model: the candidate
    /// profile a finished tuning job leaves for evaluation. <paramref name="comment"/> goes above it.
    /// </summary>
    public static ModelsFileChange AddOrSetProfile(string path, string profile, ModelProfile template, string model, string comment)
    {
        ArgumentNullException.ThrowIfNull(template);
        var existing = File.Exists(path) ? ModelProfiles.Parse(File.ReadAllText(path), path).Find(profile) : null;
        if (existing is not null)
        {
            return SetModel(path, profile, model);
        }

        return Locked(path, text =>
        {
            var spots = Locate(text, null);
            var indent = spots.Indent;
            var inner = indent + "  ";
            var body = new StringBuilder()
                .Append('\n').Append(indent).Append("// ").Append(comment.Replace("\n", " ", StringComparison.Ordinal)).Append('\n')
                .Append(indent).Append(Quote(profile)).Append(": {\n")
                .Append(inner).Append("\"enabled\": ").Append(template.Enabled ? "true" : "false").Append(",\n")
                .Append(inner).Append("\"endpoint\": ").Append(Quote(template.Endpoint.ToString())).Append(",\n")
                .Append(inner).Append("\"model\": ").Append(Quote(model)).Append(",\n");
            if (template.ApiKeyEnv is { } key)
            {
                body.Append(inner).Append("\"apiKeyEnv\": ").Append(Quote(key)).Append(",\n");
            }

            body.Append(inner).Append("\"supportsJsonSchema\": ").Append(template.SupportsJsonSchema ? "true" : "false").Append('\n')
                .Append(indent).Append('}').Append(spots.ProfilesEmpty ? "" : ",");
            var edited = text.Insert(spots.ProfilesOpen + 1, body.ToString());
            return (edited, new ModelsFileChange(profile, null, model, null, true));
        });
    }

    // Runs an edit under the lock; writes its text (when not null) after checking it parses.
    private static ModelsFileChange Locked(string path, Func<string, (string? Text, ModelsFileChange Change)> edit)
    {
        var full = Path.GetFullPath(path);
        using var lockFile = AcquireLock(full + ".lock");
        var text = File.ReadAllText(full);
        var (edited, change) = edit(text);
        if (edited is null)
        {
            return change;
        }

        ModelProfiles.Parse(edited, full + " (after the change, not written)");
        var backup = full + ".bak";
        File.Copy(full, backup, overwrite: true);
        var temp = full + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var bytes = new UTF8Encoding(false).GetBytes(edited);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, full, overwrite: true);
        return change with { Backup = backup };
    }

    private static FileStream AcquireLock(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 50)
            {
                // Another editor holds it; edits take milliseconds.
                Thread.Sleep(100);
            }
        }
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value, QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly record struct Span(int Start, int Length);

    private sealed class Spots
    {
        public Span? Model { get; set; }
        public Span? PreviousModel { get; set; }
        public string Indent { get; set; } = "    ";
        public int ProfilesOpen { get; set; } = -1;
        public bool ProfilesEmpty { get; set; } = true;
    }

    // Where the profile's "model" and "previousModel" values sit (char offsets), the indentation of its properties, and
    // where the "profiles" object opens. With profile null: only the latter, with the indentation of profile names.
    private static Spots Locate(string text, string? profile)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var spots = new Spots();
        string? property = null;
        var inProfiles = false;
        var inProfile = false;
        while (reader.Read())
        {
            var depth = reader.CurrentDepth;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    property = reader.GetString();
                    if (depth == 2 && inProfiles)
                    {
                        spots.ProfilesEmpty = false;
                        if (profile is null)
                        {
                            spots.Indent = IndentAt(text, CharOffset(bytes, (int)reader.TokenStartIndex));
                        }

                        inProfile = property == profile;
                    }
                    else if (depth == 3 && inProfile && property == "model")
                    {
                        spots.Indent = IndentAt(text, CharOffset(bytes, (int)reader.TokenStartIndex));
                    }

                    break;
                case JsonTokenType.StartObject when depth == 1 && property == "profiles":
                    inProfiles = true;
                    spots.ProfilesOpen = CharOffset(bytes, (int)reader.TokenStartIndex);
                    break;
                case JsonTokenType.EndObject when depth == 1 && inProfiles:
                    inProfiles = false;
                    break;
                case JsonTokenType.String when depth == 3 && inProfile && property is "model" or "previousModel":
                    var start = CharOffset(bytes, (int)reader.TokenStartIndex);
                    var end = CharOffset(bytes, (int)reader.BytesConsumed);
                    var span = new Span(start, end - start);
                    if (property == "model")
                    {
                        spots.Model = span;
                    }
                    else
                    {
                        spots.PreviousModel = span;
                    }

                    break;
            }
        }

        if (spots.ProfilesOpen < 0 || (profile is not null && spots.Model is null))
        {
            throw new InvalidDataException(profile is null ? "models.json has no \"profiles\" object." : $"Profile '{profile}' has no \"model\" string to change.");
        }

        return spots;
    }

    private static int CharOffset(byte[] bytes, int byteOffset) => Encoding.UTF8.GetCharCount(bytes, 0, byteOffset);

    private static string IndentAt(string text, int offset)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1;
        var indent = text[lineStart..offset];
        return indent.All(c => c is ' ' or '\t') ? indent : "    ";
    }
}
