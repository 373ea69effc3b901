using System.Globalization;
using System.Text.Json;

namespace FinNews.Core.Search.Evaluation;

/// <summary>One corpus document of a BEIR dataset.</summary>
public sealed record BeirDocument(string Id, string Title, string Text);

/// <summary>One query of a BEIR dataset.</summary>
public sealed record BeirQuery(string Id, string Text);

/// <summary>
/// A BEIR dataset folder loaded into memory: <c>corpus.jsonl</c> (<c>_id</c>, <c>title</c>, <c>text</c>),
/// <c>queries.jsonl</c> (<c>_id</c>, <c>text</c>) and <c>qrels/{split}.tsv</c> (header, then
/// <c>query-id corpus-id score</c>). Only queries that have judgments are kept, in file order.
/// </summary>
/// <param name="Name">The folder name, for reports.</param>
/// <param name="Corpus">Every document, in file order.</param>
/// <param name="Queries">The judged queries, in file order.</param>
/// <param name="Qrels">Graded judgments per query id: document id → relevance (only positive grades are relevant).</param>
public sealed record BeirDataset(
    string Name,
    IReadOnlyList<BeirDocument> Corpus,
    IReadOnlyList<BeirQuery> Queries,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels)
{
    /// <summary>Loads a BEIR folder.</summary>
    /// <param name="folder">The dataset folder.</param>
    /// <param name="split">The qrels split (<c>test</c>, <c>dev</c>, <c>train</c>).</param>
    public static BeirDataset Load(string folder, string split = "test")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentException.ThrowIfNullOrWhiteSpace(split);
        var corpusPath = Path.Combine(folder, "corpus.jsonl");
        var queriesPath = Path.Combine(folder, "queries.jsonl");
        var qrelsPath = Path.Combine(folder, "qrels", split + ".tsv");
        foreach (var path in new[] { corpusPath, queriesPath, qrelsPath })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"BEIR folder '{folder}' has no {Path.GetRelativePath(folder, path)}", path);
            }
        }

        var corpus = new List<BeirDocument>();
        foreach (var (line, number) in JsonLines(corpusPath))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            corpus.Add(new BeirDocument(
                RequiredString(root, "_id", corpusPath, number),
                OptionalString(root, "title"),
                OptionalString(root, "text")));
        }

        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(qrelsPath))
        {
            lineNumber++;
            if (lineNumber == 1 || string.IsNullOrWhiteSpace(line))
            {
                continue; // header: query-id corpus-id score
            }

            var parts = line.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var score))
            {
                throw new InvalidDataException($"{qrelsPath}:{lineNumber}: expected query-id<TAB>corpus-id<TAB>score");
            }

            if (!qrels.TryGetValue(parts[0], out var judged))
            {
                judged = new Dictionary<string, int>(StringComparer.Ordinal);
                qrels[parts[0]] = judged;
            }

            judged[parts[1]] = score;
        }

        var queries = new List<BeirQuery>();
        foreach (var (line, number) in JsonLines(queriesPath))
        {
            using var json = JsonDocument.Parse(line);
            var id = RequiredString(json.RootElement, "_id", queriesPath, number);
            if (qrels.ContainsKey(id))
            {
                queries.Add(new BeirQuery(id, OptionalString(json.RootElement, "text")));
            }
        }

        var queryIds = queries.Select(q => q.Id).ToHashSet(StringComparer.Ordinal);
        return new BeirDataset(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))),
            corpus,
            queries,
            qrels.Where(p => queryIds.Contains(p.Key))
                .ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, int>)p.Value, StringComparer.Ordinal));
    }

    /// <summary>
    /// A smaller dataset for quick runs: the first <paramref name="maxQueries"/> queries, every document judged for
    /// them, then other documents in corpus order (as distractors) up to <paramref name="maxDocuments"/>.
    /// </summary>
    public BeirDataset Subset(int maxQueries, int maxDocuments)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxQueries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDocuments);
        var queries = Queries.Take(maxQueries).ToList();
        var judged = queries.SelectMany(q => Qrels[q.Id].Keys).ToHashSet(StringComparer.Ordinal);
        var byId = Corpus.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var docs = judged.Where(byId.ContainsKey).Select(id => byId[id]).ToList();
        docs.AddRange(Corpus.Where(d => !judged.Contains(d.Id)).Take(Math.Max(0, maxDocuments - docs.Count)));
        var kept = docs.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        docs = Corpus.Where(d => kept.Contains(d.Id)).ToList(); // back in corpus order
        return new BeirDataset(
            $"{Name}[{queries.Count}q/{docs.Count}d]",
            docs,
            queries,
            queries.ToDictionary(q => q.Id, q => Qrels[q.Id], StringComparer.Ordinal));
    }

    private static IEnumerable<(string Line, int Number)> JsonLines(string path)
    {
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (line, number);
            }
        }
    }

    private static string RequiredString(JsonElement root, string name, string path, int line) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? value.ToString()
            : throw new InvalidDataException($"{path}:{line}: missing \"{name}\"");

    private static string OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;
}
