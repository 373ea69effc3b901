using System.Diagnostics;
using System.Globalization;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace FinNews.Core.Search;

/// <summary>One chunk as the lexical index stores it.</summary>
internal sealed record LexicalChunk(string ChunkId, string ArticleId, long PublishedMs, string FeedId, IReadOnlyList<string> Tickers, string Text);

/// <summary>
/// The lexical side of <see cref="SqliteSearchIndex"/>: Lucene.Net BM25 (k1 1.2, b 0.75) over chunk text analyzed by
/// <see cref="EnglishSearchAnalyzer"/>, with the time, source and ticker filters as Lucene filters.
/// </summary>
/// <remarks>
/// SQLite stays the source of truth; this index is derived from it. Every Lucene commit records the <c>search_meta</c>
/// generation it matches. A writer (<see cref="OpenWriter"/>) holds Lucene's write lock, which also serializes writers
/// across processes; the owner commits SQLite first, then Lucene with the new generation. A writer that finds the
/// recorded generation behind SQLite's (a crash between the two commits, or an index built by FTS5 before Lucene was
/// the engine) rebuilds the whole lexical index from <c>search_chunks</c>. Readers refresh when SQLite's generation is
/// ahead of what they have opened.
/// </remarks>
internal sealed class LuceneLexicalIndex : IDisposable
{
    private const string GenerationKey = "generation";

    // The document layout, recorded in every commit beside the generation. An index written with another layout
    // counts as behind and is rebuilt from search_chunks by the next writer. 3: nothing stored; what a hit reports
    // (article id, chunk id, publication time) is in doc values, which segment merges copy column by column instead of
    // decompressing and recompressing stored documents, and the publication time is filtered on them too (no indexed
    // numeric terms). The article id is also indexed, as the term deletes go by.
    private const string LayoutKey = "layout";
    private const string Layout = "3";
    private const string ChunkField = "chunk_id";
    private const string ArticleField = "article_id";
    private const string PublishedField = "published";
    private const string FeedField = "feed";
    private const string TickerField = "ticker";
    private const string TextField = "text";

    /// <summary>Longer queries are cut: each term is another posting list to merge.</summary>
    public const int MaxTerms = 32;

    private readonly LuceneDirectory _directory;
    private readonly EnglishSearchAnalyzer _analyzer = new();
    private readonly System.Threading.Lock _managerLock = new();
    private SearcherManager? _manager;
    private long _readerGeneration = -1;

    // The last writer, kept open (with Lucene's write lock) for a moment after a committed write: a drain writes batch
    // after batch, and closing a writer waits for its merges while opening one reads every segment's metadata. The
    // writer is closed once no write has come for IdleClose, when the index is disposed, or after a failed write.
    private static readonly TimeSpan IdleClose = TimeSpan.FromSeconds(1);

    // Another process (a CLI reindex while serve drains) waits for the write lock, polling it once a second for up to
    // a minute. A writer kept open through a long drain would starve it, so a writer held for MaxHold is closed after
    // its commit and the next one opens no sooner than LockGap later, long enough for a waiting process to take the lock.
    internal static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(20);
    internal static readonly TimeSpan LockGap = TimeSpan.FromMilliseconds(1100);
    private readonly System.Threading.Lock _writerLock = new();
    private readonly Timer _idleTimer;
    private IndexWriter? _idleWriter;
    private long _idleWriterGeneration;
    private long _idleWriterOpenedAt;
    private long _releasedForOthersAt;
    private bool _disposed;

    /// <param name="path">The index folder; <c>null</c> keeps the index in memory (for an in-memory database).</param>
    public LuceneLexicalIndex(string? path)
    {
        _directory = path is null ? new RAMDirectory() : FSDirectory.Open(new DirectoryInfo(path));
        _idleTimer = new Timer(_ => CloseIdleWriter(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>What <c>--explain</c> says about this engine.</summary>
    public static string Description => "Lucene.Net BM25, english analysis";

    /// <summary>
    /// Opens the writer, waiting up to a minute for another writer (in this or another process) to finish; the lock is
    /// held until the writer is disposed, and for up to a second after a committed write (the next write reuses it),
    /// except that a writer held for <see cref="MaxHold"/> is closed and the next waits <see cref="LockGap"/>.
    /// </summary>
    /// <remarks>The caller serializes writes: one <see cref="Writer"/> at a time per instance.</remarks>
    public Writer OpenWriter()
    {
        TimeSpan gap;
        lock (_writerLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _idleTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (_idleWriter is { } idle)
            {
                _idleWriter = null;
                return new Writer(this, idle, _idleWriterGeneration, _idleWriterOpenedAt);
            }

            gap = _releasedForOthersAt == 0 ? TimeSpan.Zero : LockGap - Stopwatch.GetElapsedTime(_releasedForOthersAt);
        }

        if (gap > TimeSpan.Zero)
        {
            Thread.Sleep(gap);
        }

        return new Writer(this, NewIndexWriter(), null, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// The SQLite generation the last Lucene commit matches, read without the write lock (-1 when there is no index or
    /// it has another layout): start-up checks this before it asks for a writer, so a search process does not wait
    /// for a drain running in another.
    /// </summary>
    public long CommittedGeneration()
    {
        lock (_writerLock)
        {
            if (_idleWriter is not null)
            {
                return _idleWriterGeneration;
            }
        }

        return LastCommit() is { } infos ? CurrentLayoutGenerationOf(infos.UserData) : -1;
    }

    /// <summary>The last commit's segment list, read without the write lock; null before the first commit.</summary>
    private SegmentInfos? LastCommit()
    {
        if (!DirectoryReader.IndexExists(_directory))
        {
            return null;
        }

        var infos = new SegmentInfos();
        infos.Read(_directory);
        return infos;
    }

    private IndexWriter NewIndexWriter()
    {
        var config = new IndexWriterConfig(EnglishSearchAnalyzer.Version, _analyzer)
        {
            OpenMode = OpenMode.CREATE_OR_APPEND,
            Similarity = new BM25Similarity(),
            WriteLockTimeout = 60_000,
            RAMBufferSizeMB = 64,
        };
        return new IndexWriter(_directory, config);
    }

    /// <summary>Keeps a writer whose last commit succeeded open for the next write, unless it has been held for <see cref="MaxHold"/>.</summary>
    private void KeepOpen(IndexWriter writer, long generation, long openedAt)
    {
        lock (_writerLock)
        {
            if (!_disposed && _idleWriter is null)
            {
                if (Stopwatch.GetElapsedTime(openedAt) < MaxHold)
                {
                    _idleWriter = writer;
                    _idleWriterGeneration = generation;
                    _idleWriterOpenedAt = openedAt;
                    _idleTimer.Change(IdleClose, Timeout.InfiniteTimeSpan);
                    return;
                }

                CloseWriter(writer);
                _releasedForOthersAt = Stopwatch.GetTimestamp();
                return;
            }
        }

        CloseWriter(writer);
    }

    private void CloseIdleWriter()
    {
        // Closed under the lock, so a write arriving meanwhile waits here rather than polling Lucene's file lock. This
        // runs on a timer thread: nothing may escape it (an exception there ends the process).
        lock (_writerLock)
        {
            CloseIdleWriterLocked();
        }
    }

    private void CloseIdleWriterLocked()
    {
        var idle = _idleWriter;
        _idleWriter = null;
        if (idle is not null)
        {
            CloseWriter(idle);
        }
    }

    /// <summary>
    /// Closes a writer whose changes are all committed (closing waits for its merges), and whatever happens releases
    /// Lucene's write lock: a close that fails is rolled back instead, which loses at most an unfinished merge, never a
    /// committed document. Never throws: the index is consistent either way, and the next write opens a new writer.
    /// </summary>
    private static void CloseWriter(IndexWriter writer)
    {
        try
        {
            writer.Dispose();
        }
        catch (Exception)
        {
            try
            {
                writer.Rollback();
            }
            catch (Exception)
            {
                // Lucene's rollback releases the write lock even when it fails part-way.
            }
        }
    }

    /// <summary>The <paramref name="depth"/> best chunks for the text under the filter, best first; empty when no term survives analysis.</summary>
    public List<RankedChunk> Search(string text, VectorFilter filter, int depth, long generation)
    {
        var terms = Terms(text);
        if (terms.Count == 0 || depth <= 0)
        {
            return [];
        }

        var query = new BooleanQuery();
        foreach (var term in terms)
        {
            query.Add(new TermQuery(new Term(TextField, term)), Occur.SHOULD);
        }

        var manager = Manager(generation);
        if (manager is null)
        {
            return [];
        }

        var searcher = manager.Acquire();
        try
        {
            var top = searcher.Search(query, Filter(filter), depth);
            var results = new List<RankedChunk>(top.ScoreDocs.Length);
            var leaves = searcher.IndexReader.Leaves;
            var bytes = new BytesRef();
            foreach (var hit in top.ScoreDocs)
            {
                var leaf = leaves[ReaderUtil.SubIndex(hit.Doc, leaves)];
                var reader = leaf.AtomicReader;
                var doc = hit.Doc - leaf.DocBase;
                reader.GetBinaryDocValues(ArticleField).Get(doc, bytes);
                var articleId = bytes.Utf8ToString();
                reader.GetBinaryDocValues(ChunkField).Get(doc, bytes);
                results.Add(new RankedChunk(articleId, bytes.Utf8ToString(), hit.Score, reader.GetNumericDocValues(PublishedField).Get(doc)));
            }

            return results;
        }
        finally
        {
            manager.Release(searcher);
        }
    }

    /// <summary>Segments in the last commit (0 before the first); merges keep this small however many writes came.</summary>
    internal int CommittedSegments() => LastCommit()?.Count ?? 0;

    /// <summary>The analyzed, distinct terms of a query, at most <see cref="MaxTerms"/>.</summary>
    public List<string> Terms(string? text)
    {
        var terms = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return terms;
        }

        using var stream = _analyzer.GetTokenStream(TextField, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken() && terms.Count < MaxTerms)
        {
            var value = term.ToString();
            if (!terms.Contains(value, StringComparer.Ordinal))
            {
                terms.Add(value);
            }
        }

        stream.End();
        return terms;
    }

    public void Dispose()
    {
        lock (_writerLock)
        {
            _disposed = true;
            _idleTimer.Dispose();
            CloseIdleWriterLocked();
        }

        _manager?.Dispose();
        _analyzer.Dispose();
        _directory.Dispose();
    }

    /// <summary>The searcher manager, refreshed when SQLite's generation is ahead of the opened commit; null before the first commit.</summary>
    private SearcherManager? Manager(long generation)
    {
        lock (_managerLock)
        {
            if (_manager is null)
            {
                if (!DirectoryReader.IndexExists(_directory))
                {
                    return null;
                }

                _manager = new SearcherManager(_directory, new Bm25SearcherFactory());
                _readerGeneration = -1;
            }

            if (_readerGeneration < generation)
            {
                // The writer commits SQLite first and Lucene second, so this may still open the previous commit; the
                // generation it records says so, and the next search tries again (a no-op when nothing changed).
                _manager.MaybeRefresh();
                var searcher = _manager.Acquire();
                try
                {
                    _readerGeneration = GenerationOf(((DirectoryReader)searcher.IndexReader).IndexCommit.UserData);
                }
                finally
                {
                    _manager.Release(searcher);
                }
            }

            return _manager;
        }
    }

    private static long GenerationOf(IDictionary<string, string>? userData) =>
        userData is not null && userData.TryGetValue(GenerationKey, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : -1;

    /// <summary>The generation a commit matches, or -1 when it was written with another document layout (so it is rebuilt).</summary>
    private static long CurrentLayoutGenerationOf(IDictionary<string, string>? userData) =>
        userData is not null && userData.TryGetValue(LayoutKey, out var layout) && layout == Layout ? GenerationOf(userData) : -1;

    private static QueryWrapperFilter? Filter(VectorFilter filter)
    {
        var clauses = new BooleanQuery();
        if (filter.SinceMs is not null || filter.UntilMs is not null)
        {
            // Checked against the doc values of the documents the other clauses and the query match.
            clauses.Add(new ConstantScoreQuery(FieldCacheRangeFilter.NewInt64Range(PublishedField, filter.SinceMs, filter.UntilMs, true, false)), Occur.MUST);
        }

        if (filter.Sources is { Count: > 0 } sources)
        {
            clauses.Add(AnyOf(FeedField, sources), Occur.MUST);
        }

        if (filter.Tickers is { Count: > 0 } tickers)
        {
            clauses.Add(AnyOf(TickerField, tickers), Occur.MUST);
        }

        return clauses.Clauses.Count == 0 ? null : new QueryWrapperFilter(clauses);

        static BooleanQuery AnyOf(string field, IReadOnlyList<string> values)
        {
            var any = new BooleanQuery();
            foreach (var value in values)
            {
                any.Add(new TermQuery(new Term(field, value)), Occur.SHOULD);
            }

            return any;
        }
    }

    private sealed class Bm25SearcherFactory : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = new BM25Similarity() };
    }

    /// <summary>One write: holds Lucene's write lock until disposed; nothing is visible before <see cref="Commit"/>.</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly LuceneLexicalIndex _owner;
        private readonly IndexWriter _writer;
        private readonly long _openedAt;
        private bool _committed;

        // One set of fields, refilled per chunk: Lucene has consumed a document when AddDocument returns, and a reused
        // field also reuses its token stream (a write runs on one thread at a time). The chunk id is a doc value only:
        // nothing searches or deletes by it, and a unique indexed term per chunk made every segment merge rebuild a
        // terms dictionary as large as the index.
        private readonly BinaryDocValuesField _chunkId = new(ChunkField, new BytesRef());
        private readonly StringField _articleTerm = new(ArticleField, string.Empty, Field.Store.NO);
        private readonly BinaryDocValuesField _articleId = new(ArticleField, new BytesRef());
        private readonly NumericDocValuesField _published = new(PublishedField, 0L);
        private readonly StringField _feed = new(FeedField, string.Empty, Field.Store.NO);
        private readonly TextField _text = new(TextField, string.Empty, Field.Store.NO);
        private readonly List<StringField> _tickers = [];

        internal Writer(LuceneLexicalIndex owner, IndexWriter writer, long? committedGeneration, long openedAt)
        {
            _owner = owner;
            _writer = writer;
            _openedAt = openedAt;
            CommittedGeneration = committedGeneration ?? CurrentLayoutGenerationOf(_writer.CommitData);
        }

        /// <summary>The SQLite generation the last commit matched; -1 for a new or foreign index.</summary>
        public long CommittedGeneration { get; private set; }

        private Document ToDocument(LexicalChunk chunk)
        {
            _chunkId.SetBytesValue(new BytesRef(chunk.ChunkId));
            _articleTerm.SetStringValue(chunk.ArticleId);
            _articleId.SetBytesValue(new BytesRef(chunk.ArticleId));
            _published.SetInt64Value(chunk.PublishedMs);
            _feed.SetStringValue(chunk.FeedId);
            _text.SetStringValue(chunk.Text);
            var document = new Document { _chunkId, _articleTerm, _articleId, _published, _feed, _text };
            for (var i = 0; i < chunk.Tickers.Count; i++)
            {
                if (i == _tickers.Count)
                {
                    _tickers.Add(new StringField(TickerField, string.Empty, Field.Store.NO));
                }

                _tickers[i].SetStringValue(chunk.Tickers[i]);
                document.Add(_tickers[i]);
            }

            return document;
        }

        /// <summary>Replaces every chunk of an article with these.</summary>
        public void Replace(string articleId, IEnumerable<LexicalChunk> chunks)
        {
            _writer.DeleteDocuments(new Term(ArticleField, articleId));
            foreach (var chunk in chunks)
            {
                _writer.AddDocument(ToDocument(chunk));
            }
        }

        /// <summary>Adds a chunk known to be absent (rebuilds).</summary>
        public void Add(LexicalChunk chunk) => _writer.AddDocument(ToDocument(chunk));

        /// <summary>Adds the chunks of an article known to have none in the index (a new article).</summary>
        public void Add(IEnumerable<LexicalChunk> chunks)
        {
            foreach (var chunk in chunks)
            {
                _writer.AddDocument(ToDocument(chunk));
            }
        }

        public void Delete(string articleId) => _writer.DeleteDocuments(new Term(ArticleField, articleId));

        public void DeleteAll() => _writer.DeleteAll();

        /// <summary>Makes the changes visible, recording the SQLite generation they match.</summary>
        public void Commit(long generation)
        {
            _writer.SetCommitData(new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [GenerationKey] = generation.ToString(CultureInfo.InvariantCulture),
                [LayoutKey] = Layout,
            });
            _writer.Commit();
            _committed = true;
            CommittedGeneration = generation;
        }

        /// <summary>
        /// Ends the write: a committed writer goes back to its owner for the next write (which releases the lock after
        /// a second without one); changes never committed are rolled back and the writer closed (Lucene's own close
        /// would commit them).
        /// </summary>
        public void Dispose()
        {
            // Committed: whatever the writer did since (a background merge finishing) is not a change of ours to undo;
            // rolling it back would throw the merge away and leave the index with every small segment it had.
            if (_committed)
            {
                _owner.KeepOpen(_writer, CommittedGeneration, _openedAt);
                return;
            }

            // Lucene's rollback releases the write lock even when it fails part-way; the index keeps its last commit.
            _writer.Rollback();
        }
    }
}
