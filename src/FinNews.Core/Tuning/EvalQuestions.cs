using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Tuning;

/// <summary>One question of an answer evaluation set.</summary>
/// <param name="Id">Short id, unique in the set.</param>
/// <param name="Question">The question as a user would ask it.</param>
/// <param name="AsOf">The instant it is asked at: nothing published or first seen later may be used; null: when the
/// evaluation runs (the bundled sample set, whose news was first seen whenever it was ingested).</param>
/// <param name="Expected">Facts a right answer states ("$6.84bn", "7-2 vote"): figures are compared as figures
/// ("$6.84 billion" states "$6.84bn"), other text case-insensitively. Empty for questions the news cannot answer.</param>
/// <param name="Sources">URLs of the stored articles that hold the facts, when known (source recall).</param>
/// <param name="Answerable">False when the right answer is to say the news does not say.</param>
public sealed record EvalQuestion(string Id, string Question, DateTimeOffset? AsOf, IReadOnlyList<string> Expected,
    IReadOnlyList<string> Sources, bool Answerable);

/// <summary>
/// Reads a question set: JSONL, one object per line with <c>id</c>, <c>question</c>, optional <c>asOf</c> (ISO 8601;
/// absent: now),
/// <c>expected</c> (facts), optional <c>sources</c> (URLs) and optional <c>answerable</c> (default: true when facts are
/// expected). Blank lines and lines starting with <c>//</c> are skipped. Errors name the line and the field.
/// </summary>
public static class EvalQuestions
{
    /// <summary>Loads and checks a question file.</summary>
    /// <exception cref="InvalidDataException">A line is not a valid question; the message names the line and field.</exception>
    public static IReadOnlyList<EvalQuestion> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var questions = new List<EvalQuestion>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            string Where(string field) => string.Create(CultureInfo.InvariantCulture, $"{path} line {number}: {field}");
            QuestionJson? q;
            try
            {
                q = JsonSerializer.Deserialize(text, EvalQuestionsJsonContext.Default.QuestionJson);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{Where("not a valid question object")} ({ex.Message})", ex);
            }

            if (q is null || string.IsNullOrWhiteSpace(q.Id))
            {
                throw new InvalidDataException($"{Where("id")} is missing.");
            }

            if (!ids.Add(q.Id))
            {
                throw new InvalidDataException($"{Where("id")} '{q.Id}' is used twice.");
            }

            if (string.IsNullOrWhiteSpace(q.Question) || q.Question.Length > 2000)
            {
                throw new InvalidDataException($"{Where("question")} must be 1 to 2000 characters.");
            }

            DateTimeOffset parsed = default;
            if (q.AsOf is not null && !DateTimeOffset.TryParse(q.AsOf, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out parsed))
            {
                throw new InvalidDataException($"{Where("asOf")} '{q.AsOf}' is not an ISO 8601 instant.");
            }

            var expected = (q.Expected ?? []).Where(e => !string.IsNullOrWhiteSpace(e)).ToList();
            var answerable = q.Answerable ?? expected.Count > 0;
            if (answerable && expected.Count == 0)
            {
                throw new InvalidDataException($"{Where("expected")} is empty, but the question is answerable: list the facts a right answer states.");
            }

            questions.Add(new EvalQuestion(q.Id, q.Question.Trim(), q.AsOf is null ? null : parsed.ToUniversalTime(), expected, q.Sources ?? [], answerable));
        }

        return questions.Count == 0 ? throw new InvalidDataException($"{path}: no questions.") : questions;
    }

    internal sealed class QuestionJson
    {
        public string? Id { get; set; }
        public string? Question { get; set; }
        public string? AsOf { get; set; }
        public List<string>? Expected { get; set; }
        public List<string>? Sources { get; set; }
        public bool? Answerable { get; set; }
        public string? Note { get; set; }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(EvalQuestions.QuestionJson))]
internal sealed partial class EvalQuestionsJsonContext : JsonSerializerContext;
