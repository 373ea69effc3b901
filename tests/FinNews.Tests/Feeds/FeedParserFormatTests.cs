using System.Globalization;
using System.Text;
using FinNews.Core.Feeds;
using static FinNews.Tests.Feeds.FeedTestDocs;

namespace FinNews.Tests.Feeds;

public class FeedParserFormatTests
{
    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Fact]
    public void Rss20_item_fields()
    {
        var feed = Parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
                 xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom">
              <channel>
                <title> Markets &amp; More </title>
                <link>https://example.com/</link>
                <description>Daily markets</description>
                <language>en-us</language>
                <lastBuildDate>Fri, 24 Jan 2025 12:00:00 GMT</lastBuildDate>
                <atom:link href="https://example.com/feed" rel="self"/>
                <item>
                  <title><![CDATA[AT&T beats <b>estimates</b>]]></title>
                  <link> https://example.com/att </link>
                  <guid isPermaLink="false">abc-123</guid>
                  <pubDate>Fri, 24 Jan 2025 11:00:00 -0500</pubDate>
                  <author>desk@example.com (Desk)</author>
                  <dc:creator>Jane Roe</dc:creator>
                  <description>Short &lt;i&gt;summary&lt;/i&gt;</description>
                  <content:encoded><![CDATA[<p>Full text</p>]]></content:encoded>
                  <category domain="x">Earnings</category>
                  <category>Telecom</category>
                  <dc:subject>Earnings</dc:subject>
                  <enclosure url="https://example.com/a.mp3" type="audio/mpeg" length="1234"/>
                  <media:content url="https://example.com/p.jpg" type="image/jpeg" fileSize="99"/>
                  <media:thumbnail url="https://example.com/t.jpg"/>
                </item>
              </channel>
            </rss>
            """);

        feed.Format.Should().Be(FeedFormat.Rss20);
        feed.Title.Should().Be("Markets & More");
        feed.Link.Should().Be("https://example.com/");
        feed.Description.Should().Be("Daily markets");
        feed.Language.Should().Be("en-us");
        feed.Updated.Should().Be(Utc("2025-01-24T12:00:00Z"));

        var item = feed.Items.Should().ContainSingle().Subject;
        item.Title.Should().Be("AT&T beats estimates", "titles are plain text");
        item.Link.Should().Be("https://example.com/att");
        item.Id.Should().Be("abc-123");
        item.Published.Should().Be(Utc("2025-01-24T16:00:00Z"));
        item.Authors.Should().Equal(new FeedAuthor("Desk", "desk@example.com"), new FeedAuthor("Jane Roe"));
        item.Summary.Should().Be("Short <i>summary</i>");
        item.Content.Should().Be("<p>Full text</p>");
        item.Categories.Should().Equal("Earnings", "Telecom");
        item.Enclosures.Should().Equal(
            new Enclosure("https://example.com/a.mp3", "audio/mpeg", 1234),
            new Enclosure("https://example.com/p.jpg", "image/jpeg", 99));
        item.Repaired.Should().BeFalse();
    }

    [Fact]
    public void Rss20_guid_is_the_link_when_it_is_a_permalink_url()
    {
        Single("""<rss version="2.0"><channel><item><title>t</title><guid>https://example.com/1</guid></item></channel></rss>""")
            .Link.Should().Be("https://example.com/1");
        Single("""<rss version="2.0"><channel><item><title>t</title><guid isPermaLink="true">https://example.com/2</guid></item></channel></rss>""")
            .Link.Should().Be("https://example.com/2");
        Single("""<rss version="2.0"><channel><item><title>t</title><guid isPermaLink="false">https://example.com/3</guid></item></channel></rss>""")
            .Link.Should().BeNull();
        Single("""<rss version="2.0"><channel><item><title>t</title><guid>urn:uuid:1234</guid></item></channel></rss>""")
            .Link.Should().BeNull();
    }

    [Theory]
    [InlineData("0.91", FeedFormat.Rss091)]
    [InlineData("0.92", FeedFormat.Rss092)]
    [InlineData("2.0", FeedFormat.Rss20)]
    public void Rss_versions(string version, FeedFormat format)
    {
        var feed = Parse($"""
            <?xml version="1.0" encoding="ISO-8859-1"?>
            <rss version="{version}"><channel><title>T</title><link>http://example.com/</link><description>D</description>
            <item><title>One</title><link>http://example.com/1</link><description><![CDATA[<p>x</p>]]></description></item>
            </channel></rss>
            """);

        feed.Format.Should().Be(format);
        feed.Items.Should().ContainSingle().Which.Summary.Should().Be("<p>x</p>");
    }

    [Fact]
    public void Rss_zero_item_channel_is_fine()
    {
        var feed = Parse("""<rss version="2.0"><channel><title>Empty</title></channel></rss>""");

        feed.Title.Should().Be("Empty");
        feed.Items.Should().BeEmpty();
    }

    [Fact]
    public void Rss10_rdf_items_are_siblings_of_the_channel()
    {
        var feed = Parse("""
            <?xml version="1.0"?>
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
                     xmlns:dc="http://purl.org/dc/elements/1.1/">
              <channel rdf:about="http://example.com/rss">
                <title>RDF feed</title><link>http://example.com/</link><description>d</description>
                <dc:language>de</dc:language>
                <items><rdf:Seq><rdf:li rdf:resource="http://example.com/1"/></rdf:Seq></items>
              </channel>
              <item rdf:about="http://example.com/1">
                <title>First</title>
                <link>http://example.com/1.html</link>
                <dc:date>2017-01-23T20:54:55+01:00</dc:date>
                <dc:creator>ORF</dc:creator>
                <dc:subject>Kultur</dc:subject>
                <description>text</description>
              </item>
            </rdf:RDF>
            """);

        feed.Format.Should().Be(FeedFormat.Rss10);
        feed.Title.Should().Be("RDF feed");
        feed.Language.Should().Be("de");
        var item = feed.Items.Should().ContainSingle().Subject;
        item.Id.Should().Be("http://example.com/1");
        item.Link.Should().Be("http://example.com/1.html");
        item.Published.Should().Be(Utc("2017-01-23T19:54:55Z"));
        item.Authors.Should().Equal(new FeedAuthor("ORF"));
        item.Categories.Should().Equal("Kultur");
        item.Summary.Should().Be("text");
    }

    [Fact]
    public void Rss090_is_recognised_by_its_namespace()
    {
        var feed = Parse("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
              <channel><title>Old</title><link>http://example.com/</link></channel>
              <item><title>A</title><link>http://example.com/a</link></item>
              <item><title>B</title><link>http://example.com/b</link></item>
            </rdf:RDF>
            """);

        feed.Format.Should().Be(FeedFormat.Rss090);
        feed.Items.Select(i => i.Link).Should().Equal("http://example.com/a", "http://example.com/b");
    }

    [Fact]
    public void Atom10_entry_fields()
    {
        var feed = Parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en" xmlns:media="http://search.yahoo.com/mrss/">
              <title type="text">Filings</title>
              <subtitle type="html">Latest &lt;b&gt;filings&lt;/b&gt;</subtitle>
              <link rel="self" href="https://example.com/atom"/>
              <link href="https://example.com/"/>
              <updated>2025-01-24T12:00:00-05:00</updated>
              <author><name>Feed Author</name></author>
              <id>urn:feed</id>
              <entry>
                <title type="html">Q4 &amp;lt;results&amp;gt;</title>
                <link rel="edit" href="https://example.com/edit/1"/>
                <link rel="alternate" type="application/json" href="https://example.com/1.json"/>
                <link rel="alternate" type="text/html" href="https://example.com/1"/>
                <link rel="enclosure" type="application/pdf" length="2048" href="https://example.com/1.pdf"/>
                <id>urn:entry:1</id>
                <published>2025-01-24T09:00:00-05:00</published>
                <updated>2025-01-24T10:00:00-05:00</updated>
                <author><name>Ann</name><email>ann@example.com</email></author>
                <author><email>bob@example.com</email></author>
                <category term="8-K" label="form type"/>
                <summary>Plain summary</summary>
                <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b></p></div></content>
                <media:group><media:content url="https://example.com/v.mp4" type="video/mp4"/></media:group>
              </entry>
              <entry>
                <title>No author, no alternate rel</title>
                <link href="https://example.com/2"/>
                <id>urn:entry:2</id>
                <updated>2025-01-23T10:00:00Z</updated>
                <content type="html">&lt;p&gt;escaped html&lt;/p&gt;</content>
              </entry>
            </feed>
            """);

        feed.Format.Should().Be(FeedFormat.Atom10);
        feed.Title.Should().Be("Filings");
        feed.Description.Should().Be("Latest <b>filings</b>");
        feed.Link.Should().Be("https://example.com/");
        feed.Language.Should().Be("en");
        feed.Updated.Should().Be(Utc("2025-01-24T17:00:00Z"));

        var first = feed.Items[0];
        first.Title.Should().Be("Q4 <results>");
        first.Link.Should().Be("https://example.com/1");
        first.Id.Should().Be("urn:entry:1");
        first.Published.Should().Be(Utc("2025-01-24T14:00:00Z"));
        first.Updated.Should().Be(Utc("2025-01-24T15:00:00Z"));
        first.Authors.Should().Equal(new FeedAuthor("Ann", "ann@example.com"), new FeedAuthor(null, "bob@example.com"));
        first.Categories.Should().Equal("8-K");
        first.Summary.Should().Be("Plain summary");
        first.Content.Should().Be("<p>Hello <b>world</b></p>");
        first.Enclosures.Should().Equal(
            new Enclosure("https://example.com/1.pdf", "application/pdf", 2048),
            new Enclosure("https://example.com/v.mp4", "video/mp4", null));

        var second = feed.Items[1];
        second.Link.Should().Be("https://example.com/2");
        second.Published.Should().BeNull();
        second.Updated.Should().Be(Utc("2025-01-23T10:00:00Z"));
        second.Authors.Should().Equal(new FeedAuthor("Feed Author"));
        second.Content.Should().Be("<p>escaped html</p>");
    }

    [Fact]
    public void Atom_content_with_xml_children_is_kept_as_inner_xml()
    {
        // The SEC EDGAR shape: type="text/xml" content holding filing fields as elements in the feed's namespace.
        var item = Single("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>
              <entry><title>S-1</title><id>urn:1</id><updated>2021-01-01T00:00:00Z</updated>
                <content type="text/xml"><accession-number>0001</accession-number><form-name>S-1</form-name></content>
              </entry>
            </feed>
            """);

        item.Content.Should().Be("<accession-number>0001</accession-number><form-name>S-1</form-name>");
    }

    [Fact]
    public void Atom03_issued_modified_and_content_modes()
    {
        var html = "<p>b64 body</p>";
        var b64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(html));
        var feed = Parse($"""
            <?xml version="1.0" encoding="utf-8"?>
            <feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="de">
              <title>Old Atom</title>
              <tagline>tag line</tagline>
              <link rel="alternate" type="text/html" href="http://example.com/"/>
              <modified>2005-07-31T12:29:29Z</modified>
              <entry>
                <title>Escaped</title>
                <link rel="alternate" type="text/html" href="http://example.com/1"/>
                <id>tag:example.com,2005:1</id>
                <issued>2005-07-31T14:29:29+02:00</issued>
                <modified>2005-08-01T00:00:00Z</modified>
                <author><name>Mark</name></author>
                <content type="text/html" mode="escaped">&lt;p&gt;escaped body&lt;/p&gt;</content>
              </entry>
              <entry>
                <title>Base64</title>
                <id>tag:example.com,2005:2</id>
                <created>2005-07-30T10:00:00Z</created>
                <content type="text/html" mode="base64">{b64}</content>
              </entry>
              <entry>
                <title>Inline xml</title>
                <id>tag:example.com,2005:3</id>
                <content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml">x <i>y</i></div></content>
              </entry>
            </feed>
            """);

        feed.Format.Should().Be(FeedFormat.Atom03);
        feed.Description.Should().Be("tag line");
        feed.Updated.Should().Be(Utc("2005-07-31T12:29:29Z"));
        feed.Items[0].Published.Should().Be(Utc("2005-07-31T12:29:29Z"));
        feed.Items[0].Updated.Should().Be(Utc("2005-08-01T00:00:00Z"));
        feed.Items[0].Content.Should().Be("<p>escaped body</p>");
        feed.Items[0].Authors.Should().Equal(new FeedAuthor("Mark"));
        feed.Items[1].Published.Should().Be(Utc("2005-07-30T10:00:00Z"), "created is the last fallback");
        feed.Items[1].Content.Should().Be(html);
        feed.Items[2].Content.Should().Be("<div>x <i>y</i></div>");
    }

    [Fact]
    public void Xml_base_resolves_relative_links_at_every_level()
    {
        var feed = Parse("""
            <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/news/">
              <title>f</title>
              <link href="index.html"/>
              <entry xml:base="2025/">
                <title>a</title><id>1</id>
                <link href="a.html"/>
                <link rel="enclosure" href="/media/a.mp3" type="audio/mpeg"/>
              </entry>
              <entry>
                <title>b</title><id>2</id>
                <link xml:base="https://other.example.org/x/" href="b.html"/>
              </entry>
              <entry xml:base="https://cdn.example.net/">
                <title>c</title><id>3</id>
                <link href="https://absolute.example.com/c?a=1&amp;b=2"/>
              </entry>
            </feed>
            """);

        feed.Link.Should().Be("https://example.com/news/index.html");
        feed.Items[0].Link.Should().Be("https://example.com/news/2025/a.html");
        feed.Items[0].Enclosures.Single().Url.Should().Be("https://example.com/media/a.mp3");
        feed.Items[1].Link.Should().Be("https://other.example.org/x/b.html");
        feed.Items[2].Link.Should().Be("https://absolute.example.com/c?a=1&b=2");
    }

    [Fact]
    public void Rss_links_resolve_against_xml_base_then_the_feed_url()
    {
        var withBase = Parse("""
            <rss version="2.0" xml:base="https://www.sec.gov/"><channel><title>t</title><link>/newsroom</link>
              <item><title>a</title><link>newsroom/press-releases/2025-31</link></item></channel></rss>
            """);
        withBase.Link.Should().Be("https://www.sec.gov/newsroom");
        withBase.Items[0].Link.Should().Be("https://www.sec.gov/newsroom/press-releases/2025-31");

        var withUrl = Parse(
            """<rss version="2.0"><channel><title>t</title><item><title>a</title><link>/a/b.html</link></item></channel></rss>""",
            new Uri("https://feeds.example.com/rss/all.xml"));
        withUrl.Items[0].Link.Should().Be("https://feeds.example.com/a/b.html");

        var noBase = Parse("""<rss version="2.0"><channel><title>t</title><item><title>a</title><link>/a/b.html</link></item></channel></rss>""");
        noBase.Items[0].Link.Should().Be("/a/b.html", "with no base the link is kept as given");
    }

    [Theory]
    [InlineData("<html><body>hi</body></html>", "an HTML page")]
    [InlineData("""<opml version="2.0"><body/></opml>""", "an OPML subscription list")]
    [InlineData("""<x:feed xmlns:x="urn:other"/>""", "a <feed> element in a namespace that is not a feed format's")]
    [InlineData("""<catalog><book/></catalog>""", "another element")]
    public void Unknown_root_says_what_the_document_is_without_quoting_it(string xml, string what)
    {
        var act = () => Parse(xml);

        act.Should().Throw<FeedParseException>().Which.Message.Should()
            .Be($"Not a feed: the root element is {what}; expected <rss>, <rdf:RDF> or <feed>.");
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0x20, 0x0A, 0x09 }, "empty")]
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x31, 0x7D }, "not a JSON Feed")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10 }, "not XML")]
    public void Empty_and_non_xml_input_is_a_clear_error(byte[] bytes, string phrase)
    {
        var act = () => FeedParser.Parse(bytes);

        act.Should().Throw<FeedParseException>().Which.Message.Should().Contain(phrase);
    }

    [Theory]
    [InlineData("<rss version=\"2.0\"><channel><title>t</title>")]
    [InlineData("<rss><channel><title>t</tit></channel></rss>")]
    [InlineData("<rss><channel><title a=\"1\" a=\"2\">t</title></channel></rss>")]
    [InlineData("<rss><channel></channel></rss><rss/>")]
    [InlineData("<!DOCTYPE html><html><body>not a feed</body></html>")]
    public void Malformed_xml_is_a_FeedParseException(string xml)
    {
        var act = () => Parse(xml);

        act.Should().Throw<FeedParseException>();
    }

    [Fact]
    public void Stream_overload_reads_to_the_end()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("""<rss version="2.0"><channel><title>s</title><item><title>i</title></item></channel></rss>"""));

        FeedParser.Parse(stream).Items.Should().ContainSingle().Which.Title.Should().Be("i");
    }

    [Fact]
    public void Stream_that_fails_to_read_is_a_FeedParseException()
    {
        var act = () => FeedParser.Parse(new FailingStream());

        act.Should().Throw<FeedParseException>().WithMessage("*could not be read*");
    }

    [Fact]
    public void Leading_whitespace_before_the_declaration_is_tolerated()
    {
        Parse("\n\n  <?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>ws</title></channel></rss>").Title.Should().Be("ws");
    }

    [Fact]
    public void Blank_values_are_null_and_text_is_trimmed()
    {
        var item = Single("""
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>
              <item><title>
                 Padded title
              </title><dc:creator> </dc:creator><description>   </description><link>  </link></item></channel></rss>
            """);

        item.Title.Should().Be("Padded title");
        item.Authors.Should().BeEmpty();
        item.Summary.Should().BeNull();
        item.Link.Should().BeNull();
    }

    [Fact]
    public void Raw_xhtml_inside_description_is_kept_as_markup()
    {
        var item = Single("""<rss><channel><item><title>t</title><description><p>Hello <a href="https://x.test/">x</a></p></description></item></channel></rss>""");

        item.Summary.Should().Be("<p>Hello <a href=\"https://x.test/\">x</a></p>");
    }

    [Fact]
    public void Deeply_nested_content_does_not_overflow_the_stack()
    {
        const int depth = 100_000;
        var nested = string.Concat(Enumerable.Repeat("<b>", depth)) + "x" + string.Concat(Enumerable.Repeat("</b>", depth));
        var xml = $"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><id>1</id><title>t</title><content type=\"xhtml\">{nested}</content></entry></feed>";

        var act = () => Parse(xml);

        // A stack overflow would kill the process; a clear, catchable refusal is what we want.
        act.Should().Throw<FeedParseException>().WithMessage("*levels deep*");
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("connection reset");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
