using System.Text;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

public class FeedCharsetTests
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    private static byte[] Doc(string title, string? prologEncoding, Encoding bytesAs)
    {
        var prolog = prologEncoding is null ? string.Empty : $"<?xml version=\"1.0\" encoding=\"{prologEncoding}\"?>";
        return bytesAs.GetBytes($"{prolog}<rss version=\"2.0\"><channel><title>{title}</title><item><title>{title}</title></item></channel></rss>");
    }

    private static string? Title(byte[] bytes, string? header = null) => FeedParser.Parse(bytes, header).Items.Single().Title;

    [Fact]
    public void Iso_8859_1_bytes_with_prolog()
    {
        Title(Doc("Börse Zürich: Café", "ISO-8859-1", Latin1)).Should().Be("Börse Zürich: Café");
    }

    [Fact]
    public void Windows_1252_smart_quotes_and_euro()
    {
        // 0x93/0x94 are curly double quotes, 0x80 the euro sign, 0x96 an en dash: only windows-1252 has them.
        var bytes = Encoding.ASCII.GetBytes("<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>t</title><item><title>")
            .Concat(new byte[] { 0x93, (byte)'Q', (byte)'4', 0x94, (byte)' ', 0x96, (byte)' ', 0x80, (byte)'5', (byte)'m' })
            .Concat(Encoding.ASCII.GetBytes("</title></item></channel></rss>"))
            .ToArray();

        Title(bytes).Should().Be("\u201CQ4\u201D \u2013 \u20AC5m");
    }

    [Fact]
    public void Latin1_label_on_smart_quote_bytes_reads_them_as_windows_1252()
    {
        var bytes = Encoding.ASCII.GetBytes("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><title>")
            .Concat(new byte[] { 0x93, (byte)'x', 0x94 })
            .Concat(Encoding.ASCII.GetBytes("</title></item></channel></rss>"))
            .ToArray();

        Title(bytes).Should().Be("\u201Cx\u201D");
    }

    [Fact]
    public void Utf8_bytes_mislabelled_latin1_in_the_prolog_are_read_as_utf8()
    {
        Title(Doc("Börse – “Zürich” €", "ISO-8859-1", Encoding.UTF8)).Should().Be("Börse – “Zürich” €");
    }

    [Fact]
    public void Utf8_bytes_mislabelled_in_the_http_header_are_read_as_utf8()
    {
        Title(Doc("Börse", null, Encoding.UTF8), header: "windows-1252").Should().Be("Börse");
    }

    [Fact]
    public void Http_header_charset_wins_over_the_prolog()
    {
        // Prolog says UTF-8, but the bytes are Latin-1 and the server said so.
        Title(Doc("Zürich", "UTF-8", Latin1), header: "iso-8859-1").Should().Be("Zürich");
    }

    [Fact]
    public void Prolog_charset_is_used_when_the_header_has_none()
    {
        Title(Doc("Zürich", "iso-8859-1", Latin1), header: null).Should().Be("Zürich");
    }

    [Fact]
    public void Undeclared_non_utf8_bytes_fall_back_to_windows_1252()
    {
        // uolNoticias.rss in the corpus: Latin-1 bytes, no declaration.
        Title(Doc("simulações de 2º turno", null, Latin1)).Should().Be("simulações de 2º turno");
    }

    [Fact]
    public void Declared_utf8_with_one_stray_byte_stays_utf8()
    {
        var good = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><item><title>Zürich Börse Genève Köln ");
        var bytes = good.Concat(new byte[] { 0xE9 }).Concat(Encoding.ASCII.GetBytes("</title></item></channel></rss>")).ToArray();

        Title(bytes).Should().Be("Zürich Börse Genève Köln \uFFFD");
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    public void Byte_order_mark_wins(string encodingName)
    {
        var encoding = encodingName switch
        {
            "utf-8" => new UTF8Encoding(true),
            "utf-16" => new UnicodeEncoding(false, true),
            "utf-16BE" => new UnicodeEncoding(true, true),
            _ => (Encoding)new UTF32Encoding(false, true),
        };
        var bytes = encoding.GetPreamble().Concat(Doc("Zürich €", "ISO-8859-1", encoding)).ToArray();

        Title(bytes, header: "iso-8859-1").Should().Be("Zürich €");
    }

    [Fact]
    public void Utf16_without_bom_is_detected_from_the_zero_bytes()
    {
        Title(Doc("Zürich", "UTF-16", new UnicodeEncoding(false, false))).Should().Be("Zürich");
    }

    [Fact]
    public void Unknown_labels_are_ignored()
    {
        Title(Doc("Zürich", "x-made-up", Encoding.UTF8), header: "bogus").Should().Be("Zürich");
    }

    [Fact]
    public void Corpus_windows_1252_feed_reads_clean()
    {
        var path = Path.Combine(TestPaths.SharedCorpora, "feeds", "sec-edgar", "edgar_xbrl_usgaap.rss");
        var feed = FeedParser.Parse(File.ReadAllBytes(path));

        feed.Items.Should().HaveCount(200);
        string.Concat(feed.Items.Select(i => i.Title)).Should().NotContain("\uFFFD");
    }

    [Fact]
    public void Corpus_latin1_feed_decodes_accents()
    {
        var path = Path.Combine(TestPaths.SharedCorpora, "feeds", "with-expected-output", "encoding.rss");

        FeedParser.Parse(File.ReadAllBytes(path)).Title.Should().Be("Jornal de Notícias - Últimas Notícias");
    }
}
