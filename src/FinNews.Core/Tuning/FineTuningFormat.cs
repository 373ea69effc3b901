using System.Globalization;
using System.Text;
using System.Text.Json;
using FinNews.Core.Models;

namespace FinNews.Core.Tuning;

/// <summary>One problem found in a dataset file: the 1-based line and what is wrong with it (line 0: the whole file).</summary>
public sealed record FormatProblem(int Line, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Line == 0 ? Message : string.Create(CultureInfo.InvariantCulture, $"line {Line}: {Message}");
}

/// <summary>What checking a chat-format JSONL file found.</summary>
/// <param name="Examples">Lines read as examples.</param>
/// <param name="Tokens">Prompt-and-reply tokens of every example together (<see cref="ModelTokenizer.CountChat"/>).</param>
/// <param name="MaxExampleTokens">Tokens of the longest example.</param>
/// <param name="Bytes">Size of the file.</param>
/// <param name="Encoding">How tokens were counted (o200k_base, cl100k_base, or the labelled estimate).</param>
/// <param name="Errors">Problems that make the file unusable for OpenAI fine-tuning.</param>
public sealed record FormatReport(int Examples, long Tokens, int MaxExampleTokens, long Bytes, string Encoding, IReadOnlyList<FormatProblem> Errors)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Valid => Errors.Count == 0;
}

/// <summary>
/// The chat fine-tuning format and limits of OpenAI's fine-tuning API (the same <c>messages</c> format that open-model
/// LoRA trainers read): one JSON object per line with a non-empty <c>messages</c> array; each message an object with a
/// known <c>role</c> (system, user, assistant, tool, function) and string <c>content</c>, no other keys than those the
/// API documents (name, weight, tool_calls, tool_call_id, function_call); <c>weight</c> 0 or 1 and only on assistant
/// messages; at least one assistant message per example; each example within the model's training context; at least
/// <see cref="MinExamples"/> examples in a training file; at most <see cref="MaxFileBytes"/> per file.
/// </summary>
/// <remarks>
/// These are the checks of OpenAI's published data-preparation notebook for chat fine-tuning (format errors and token
/// limits) plus the documented minimum of 10 examples and the Files API size limit, so a file is refused here rather
/// than hours later by the job's file validation.
/// </remarks>
public static class FineTuningFormat
{
    /// <summary>Fewest examples OpenAI accepts in a training file.</summary>
    public const int MinExamples = 10;

    /// <summary>Largest file the Files API accepts (512 MB).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant", "tool", "function" };

    private static readonly HashSet<string> MessageKeys = new(StringComparer.Ordinal)
    {
        "role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call",
    };

    private static readonly HashSet<string> ExampleKeys = new(StringComparer.Ordinal) { "messages", "tools", "parallel_tool_calls", "functions" };

    /// <summary>
    /// Most tokens one training example may have for a base model: 65,536 for the gpt-4o, gpt-4o-mini and gpt-4.1
    /// families, 16,385 for gpt-3.5-turbo-0125/1106, 4,096 for gpt-3.5-turbo-0613, 8,192 for gpt-4-0613; otherwise the
    /// model's context window (self-hosted models: what the server runs).
    /// </summary>
    public static int MaxExampleTokens(string model)
    {
        var m = ModelTokenizer.BaseModel(model);
        return m switch
        {
            _ when m.StartsWith("gpt-4o", StringComparison.Ordinal) || m.StartsWith("gpt-4.1", StringComparison.Ordinal) => 65_536,
            _ when m.StartsWith("gpt-3.5-turbo-0613", StringComparison.Ordinal) => 4_096,
            _ when m.StartsWith("gpt-3.5-turbo", StringComparison.Ordinal) => 16_385,
            _ when m.StartsWith("gpt-4-0613", StringComparison.Ordinal) => 8_192,
            _ => ModelTokenizer.DefaultContextWindow(model),
        };
    }

    /// <summary>Checks a file. <paramref name="training"/>: the minimum example count applies (not to validation files).</summary>
    public static FormatReport CheckFile(string path, string model, bool training)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = new FileInfo(path).Length;
        var report = Check(File.ReadLines(path, Encoding.UTF8), model, training);
        var errors = report.Errors.ToList();
        if (bytes > MaxFileBytes)
        {
            errors.Add(new FormatProblem(0, string.Create(CultureInfo.InvariantCulture, $"the file is {bytes:N0} bytes; the Files API accepts at most {MaxFileBytes:N0}")));
        }

        return report with { Bytes = bytes, Errors = errors };
    }

    /// <summary>Checks the lines of a JSONL file against the format and the limits of <paramref name="model"/>.</summary>
    public static FormatReport Check(IEnumerable<string> lines, string model, bool training)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var tokenizer = ModelTokenizer.For(model);
        var limit = MaxExampleTokens(model);
        var errors = new List<FormatProblem>();
        var examples = 0;
        long tokens = 0, bytes = 0;
        var longest = 0;
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            bytes += Encoding.UTF8.GetByteCount(line) + 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                errors.Add(new FormatProblem(number, "empty line (every line must be one example)"));
                continue;
            }

            examples++;
            var messages = ReadExample(line, number, errors);
            if (messages is null)
            {
                continue;
            }

            var count = tokenizer.CountChat(messages);
            tokens += count;
            longest = Math.Max(longest, count);
            if (count > limit)
            {
                errors.Add(new FormatProblem(number, string.Create(CultureInfo.InvariantCulture,
                    $"{count:N0} tokens; {model} takes at most {limit:N0} per training example")));
            }
        }

        if (training && examples < MinExamples)
        {
            errors.Add(new FormatProblem(0, string.Create(CultureInfo.InvariantCulture,
                $"{examples} example(s); OpenAI fine-tuning needs at least {MinExamples} in the training file")));
        }

        return new FormatReport(examples, tokens, longest, bytes, tokenizer.Encoding, errors);
    }

    // The (role, content) pairs of one example, or null after recording why it is unusable.
    private static List<(string Role, string Content)>? ReadExample(string line, int number, List<FormatProblem> errors)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            errors.Add(new FormatProblem(number, $"not valid JSON ({ex.Message})"));
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FormatProblem(number, "not a JSON object"));
                return null;
            }

            var before = errors.Count;
            foreach (var p in root.EnumerateObject().Where(p => !ExampleKeys.Contains(p.Name)))
            {
                errors.Add(new FormatProblem(number, $"unrecognized key \"{p.Name}\" (an example holds \"messages\")"));
            }

            if (!root.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            {
                errors.Add(new FormatProblem(number, "no \"messages\" array, or it is empty"));
                return null;
            }

            var messages = new List<(string, string)>();
            var assistant = false;
            var index = 0;
            foreach (var m in list.EnumerateArray())
            {
                index++;
                var where = string.Create(CultureInfo.InvariantCulture, $"message {index}");
                if (m.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new FormatProblem(number, $"{where} is not an object"));
                    continue;
                }

                foreach (var p in m.EnumerateObject().Where(p => !MessageKeys.Contains(p.Name)))
                {
                    errors.Add(new FormatProblem(number, $"{where} has the unrecognized key \"{p.Name}\""));
                }

                var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : null;
                if (role is null || !Roles.Contains(role))
                {
                    errors.Add(new FormatProblem(number, $"{where} has {(role is null ? "no role" : $"the unknown role \"{role}\"")} (system, user, assistant, tool or function)"));
                    continue;
                }

                var hasCall = m.TryGetProperty("tool_calls", out _) || m.TryGetProperty("function_call", out _);
                string content;
                if (m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                {
                    content = c.GetString()!;
                }
                else if (hasCall && role == "assistant")
                {
                    content = "";
                }
                else
                {
                    errors.Add(new FormatProblem(number, $"{where} ({role}) has no string \"content\""));
                    continue;
                }

                if (m.TryGetProperty("weight", out var w) && (role != "assistant" || w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out var wv) || wv is not (0 or 1)))
                {
                    errors.Add(new FormatProblem(number, $"{where}: \"weight\" must be 0 or 1 and only on assistant messages"));
                }

                assistant |= role == "assistant";
                messages.Add((role, content));
            }

            if (!assistant)
            {
                errors.Add(new FormatProblem(number, "no assistant message (nothing to learn)"));
            }

            return errors.Count > before ? null : messages;
        }
    }
}
