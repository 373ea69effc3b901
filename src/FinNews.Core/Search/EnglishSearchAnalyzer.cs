using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Miscellaneous;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Util;

namespace FinNews.Core.Search;

/// <summary>
/// The text analysis of the embedded lexical index, built like the Elasticsearch backend's <c>finnews_english</c>
/// analyzer (<see cref="Elasticsearch.ElasticsearchQueries.Analyzer"/>): standard tokenizer, English possessives,
/// lower case, ASCII folding, the English stop words, Porter stemming. Both backends therefore see the same terms.
/// </summary>
public sealed class EnglishSearchAnalyzer : Analyzer
{
    internal const LuceneVersion Version = LuceneVersion.LUCENE_48;

    /// <inheritdoc/>
    protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader)
    {
        var source = new StandardTokenizer(Version, reader);
        TokenStream stream = new EnglishPossessiveFilter(Version, source);
        stream = new LowerCaseFilter(Version, stream);
        stream = new ASCIIFoldingFilter(stream);
        stream = new StopFilter(Version, stream, EnglishAnalyzer.DefaultStopSet);
        stream = new PorterStemFilter(stream);
        return new TokenStreamComponents(source, stream);
    }
}
