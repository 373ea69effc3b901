using System.Text;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>Encodings beyond the basics in FeedCharsetTests: RFC 7303 precedence, UTF-16/32 without a BOM, mojibake repair.</summary>
public class FeedEncodingTests
{
    private static byte[] Doc(string title, string? prologEncoding, Encoding bytesAs, string lead = "")
    {
        var prolog = prologEncoding is null ? string.Empty : $"<?xml version=\"1.0\" encoding=\"{prologEncoding}\"?>";
        return bytesAs.GetBytes($"{lead}{prolog}<rss version=\"2.0\"><channel><title>Feed</title><item><title>{title}</title></item></channel></rss>");
    }

    [Theory]
    [InlineData("utf-32LE")]
    [InlineData("utf-32BE")]
    [InlineData("utf-16LE")]
    [InlineData("utf-16BE")]
    public void Wide_encodings_without_a_bom_are_told_by_their_zero_bytes(string name)
    {
        var encoding = name switch
        {
            "utf-32LE" => new UTF32Encoding(bigEndian: false, byteOrderMark: false),
            "utf-32BE" => new UTF32Encoding(bigEndian: true, byteOrderMark: false),
            "utf-16LE" => new UnicodeEncoding(bigEndian: false, byteOrderMark: false),
            _ => (Encoding)new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
        };

        // A declaration that names the family but not the byte order, and whitespace before it (PHP).
        var bytes = Doc("Zürich €5 ✓", name.StartsWith("utf-32", StringComparison.Ordinal) ? "UTF-32" : "UTF-16", encoding, lead: "\n ");

        FeedParser.Parse(bytes).Items.Single().Title.Should().Be("Zürich €5 ✓");
    }

    [Fact]
    public void Rfc_7303_the_http_charset_overrides_the_declaration_and_the_declaration_applies_without_one()
    {
        // Bytes in ISO-8859-7 (Greek), declared as ISO-8859-1 in the document; the server knows better.
        var greek = Encoding.GetEncoding("iso-8859-7");
        var bytes = Doc("Αγορές", "ISO-8859-1", greek);

        FeedParser.Parse(bytes, "iso-8859-7").Items.Single().Title.Should().Be("Αγορές");
        FeedParser.Parse(Doc("Αγορές", "ISO-8859-7", greek)).Items.Single().Title.Should().Be("Αγορές");
    }

    [Fact]
    public void A_bom_beats_the_http_charset()
    {
        var bytes = new UnicodeEncoding(bigEndian: true, byteOrderMark: true).GetPreamble()
            .Concat(Doc("Börse", "UTF-16", new UnicodeEncoding(bigEndian: true, byteOrderMark: false))).ToArray();

        FeedParser.Parse(bytes, "iso-8859-1").Items.Single().Title.Should().Be("Börse");
    }

    [Fact]
    public void Undeclared_latin1_is_read_as_windows_1252()
    {
        var bytes = Encoding.Latin1.GetBytes("<rss version=\"2.0\"><channel><title>t</title><item><title>Crédit Agricole à São Paulo</title></item></channel></rss>");

        var item = FeedParser.Parse(bytes).Items.Single();

        item.Title.Should().Be("Crédit Agricole à São Paulo");
        item.Repaired.Should().BeFalse("well-formed Latin-1 is read, not repaired");
    }

    [Theory]
    [InlineData("KÃ¶ln BÃ¶rse: â€œRatesâ€\u009D up â€“ 5Â %", "Köln Börse: “Rates” up – 5 %")]
    [InlineData("Itâ€™s the cafÃ©â€™s â‚¬5 deal", "It’s the café’s €5 deal")]
    [InlineData("PreisÂ\u00A0steigt", "Preis\u00A0steigt")]
    [InlineData("Price:Â 12", "Price: 12")]
    [InlineData("KÃƒÂ¶ln", "Köln")]
    public void Mojibake_is_repaired_and_the_item_flagged(string garbled, string clean)
    {
        var xml = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><item><title>{garbled}</title><description>{garbled}</description></item></channel></rss>";

        var item = FeedParser.Parse(Encoding.UTF8.GetBytes(xml)).Items.Single();

        item.Title.Should().Be(clean.Replace('\u00A0', ' '));
        item.Summary.Should().Be(clean);
        item.Repaired.Should().BeTrue();
    }

    [Theory]
    [InlineData("ROMÂNIA Ärger: Æsop, Ñandú, Øre, 5 × 3 ÷ 2")]
    [InlineData("Straße, Ŝtono, Ÿvonne")]
    public void Genuine_accented_text_is_not_repaired(string text)
    {
        var xml = $"<rss version=\"2.0\"><channel><title>t</title><item><title>{text}</title></item></channel></rss>";

        var item = FeedParser.Parse(Encoding.UTF8.GetBytes(xml)).Items.Single();

        item.Title.Should().Be(text);
        item.Repaired.Should().BeFalse();
    }

    [Fact]
    public void Corpus_double_decoded_feed_reads_clean_and_is_flagged()
    {
        // Rss20FazNet.xml: the publisher's UTF-8 was decoded twice before it was written.
        var feed = FeedParser.Parse(File.ReadAllBytes(Path.Combine(TestPaths.SharedCorpora, "feeds", "news-mit", "Rss20FazNet.xml")));

        var text = string.Concat(feed.Items.Select(i => i.Title + i.Summary));
        text.Should().NotContain("Ã").And.NotContain("â€");
        feed.Items.Should().Contain(i => i.Repaired);
    }
}
