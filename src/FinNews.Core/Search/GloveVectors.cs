using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace FinNews.Core.Search;

/// <summary>
/// A word-vector table in the project's binary format (<c>glove-100d.bin</c>): words in frequency-rank order (most
/// frequent first) and one float32 vector per word.
/// </summary>
/// <remarks>
/// Layout, little-endian: the 8 ASCII bytes <c>FNGLOVE1</c>, int32 dimensions, int32 word count, then each word as a
/// 7-bit-length-prefixed UTF-8 string (<see cref="BinaryWriter.Write(string)"/>), then count × dimensions float32.
/// </remarks>
public sealed class GloveVectors
{
    private static readonly byte[] Magic = "FNGLOVE1"u8.ToArray();

    private readonly Dictionary<string, int> _ranks;
    private readonly float[] _vectors;

    /// <summary>Wraps words (rank order) and their vectors (row-major, <c>words.Count × dimensions</c>).</summary>
    public GloveVectors(IReadOnlyList<string> words, float[] vectors, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if ((long)words.Count * dimensions != vectors.Length)
        {
            throw new ArgumentException($"{words.Count} words × {dimensions} dims needs {(long)words.Count * dimensions} floats, got {vectors.Length}", nameof(vectors));
        }

        Dimensions = dimensions;
        Words = words;
        _vectors = vectors;
        _ranks = new Dictionary<string, int>(words.Count, StringComparer.Ordinal);
        for (var i = 0; i < words.Count; i++)
        {
            _ranks.TryAdd(words[i], i); // a duplicate keeps its more frequent (earlier) row
        }
    }

    /// <summary>Vector length.</summary>
    public int Dimensions { get; }

    /// <summary>Number of words.</summary>
    public int Count => Words.Count;

    /// <summary>The words, most frequent first.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The 0-based frequency rank of <paramref name="word"/> (exact, case-sensitive), or -1.</summary>
    public int RankOf(string word) => _ranks.TryGetValue(word, out var rank) ? rank : -1;

    /// <summary>The vector of the word at <paramref name="rank"/>.</summary>
    public ReadOnlySpan<float> Vector(int rank) => _vectors.AsSpan(rank * Dimensions, Dimensions);

    /// <summary>Reads a file written by <see cref="Write(Stream)"/>.</summary>
    public static GloveVectors Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(stream);
    }

    /// <summary>Reads the binary format from a stream.</summary>
    public static GloveVectors Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var (dimensions, count) = ReadHeader(reader);
        var words = new string[count];
        for (var i = 0; i < count; i++)
        {
            words[i] = reader.ReadString();
        }

        var vectors = new float[(long)count * dimensions];
        var bytes = MemoryMarshal.AsBytes(vectors.AsSpan());
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            var ints = MemoryMarshal.Cast<float, int>(vectors.AsSpan());
            BinaryPrimitives.ReverseEndianness(ints, ints);
        }

        return new GloveVectors(words, vectors, dimensions);
    }

    /// <summary>Reads only the header: (dimensions, word count); throws <see cref="InvalidDataException"/> if it is not this format.</summary>
    public static (int Dimensions, int Count) ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        return ReadHeader(reader);
    }

    /// <summary>Writes the binary format.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Dimensions);
        writer.Write(Count);
        foreach (var word in Words)
        {
            writer.Write(word);
        }

        writer.Flush();
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(_vectors.AsSpan()));
        }
        else
        {
            foreach (var value in _vectors)
            {
                writer.Write(value);
            }

            writer.Flush();
        }
    }

    private static (int Dimensions, int Count) ReadHeader(BinaryReader reader)
    {
        var magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a FinNews word-vector file (bad magic); reinstall it with `finnews models install glove`");
        }

        var dimensions = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (dimensions <= 0 || count < 0 || (long)dimensions * count > Array.MaxLength)
        {
            throw new InvalidDataException($"word-vector file header is corrupt ({count} words × {dimensions} dims)");
        }

        return (dimensions, count);
    }
}
