using System.Globalization;
using System.Text;
using FinNews.Core.Feeds;
using static FinNews.Tests.Feeds.FeedTestDocs;

namespace FinNews.Tests.Feeds;

/// <summary>
/// Fields as the best readers read them: plain titles from every text construct, ids at feed and item level, links by
/// rel priority with the readers' fallbacks, and authors as name and e-mail from every form. Fixtures written here.
/// </summary>
public class FeedFieldTests
{
    private const string AtomNs = "http://www.w3.org/2005/Atom";

    [Theory]
    [InlineData("http://www.w3.org/2005/Atom/")]
    [InlineData("https://www.w3.org/2005/Atom")]
    [InlineData("http://purl.org/atom/ns#draft-ietf-atompub-format-09")]
    [InlineData("urn:example:not-quite-atom")]
    public void Atom_in_a_non_standard_root_namespace_is_read_as_atom_when_its_structure_is_atom(string ns)
    {
        var feed = Parse($"""
            <feed xmlns="{ns}"><title>Quirky</title><id>urn:quirky</id><updated>2025-03-01T10:00:00Z</updated>
              <entry><title>One</title><id>urn:quirky:1</id><link href="https://quirky.example/1"/><updated>2025-03-01T09:00:00Z</updated></entry>
            </feed>
            """);

        feed.Format.Should().BeOneOf(FeedFormat.Atom10, FeedFormat.Atom03);
        feed.Title.Should().Be("Quirky");
        feed.Id.Should().Be("urn:quirky");
        feed.Items.Should().ContainSingle().Which.Link.Should().Be("https://quirky.example/1");
    }

    [Fact]
    public void A_feed_element_without_atom_structure_in_another_namespace_is_still_not_a_feed()
    {
        var act = () => Parse("""<x:feed xmlns:x="urn:other"><x:name>inventory</x:name></x:feed>""");

        act.Should().Throw<FeedParseException>().WithMessage("Not a feed*");
    }

    [Fact]
    public void Atom_text_constructs_of_every_type_become_plain_titles()
    {
        var b64 = Convert.ToBase64String(Encoding.UTF8.GetBytes("Bonds & <bills> rally"));
        var feed = Parse($"""
            <feed xmlns="{AtomNs}"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Feed <b>bold</b> title</div></title><id>f</id>
              <entry><id>1</id><title type="text">Rates &lt; 5% &amp; EPS &gt; $2</title></entry>
              <entry><id>2</id><title type="html">&lt;em&gt;Oil&lt;/em&gt; &amp;amp; gas</title></entry>
              <entry><id>3</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Yields <em>jump</em></p></div></title></entry>
              <entry><id>4</id><title type="application/octet-stream">{b64}</title></entry>
              <entry><id>5</id><title type="text/plain">  Spaced
                 out  </title></entry>
              <entry><id>6</id><title type="image/png">iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==</title><summary>has a summary</summary></entry>
            </feed>
            """);

        feed.Title.Should().Be("Feed bold title");
        feed.Items.Select(i => i.Title).Should().Equal(
            "Rates < 5% & EPS > $2",
            "Oil & gas",
            "Yields jump",
            "Bonds & <bills> rally",
            "Spaced out",
            null);
    }

    [Fact]
    public void Summaries_and_content_are_html_with_a_sanitized_form_and_a_plain_text_form()
    {
        var item = Single("""
            <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xml:base="https://news.example/markets/"><channel><title>t</title>
              <item><title>x</title>
                <description>&lt;p onclick="steal()"&gt;Stocks &lt;b&gt;rose&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;a href="javascript:alert(2)"&gt;here&lt;/a&gt; &lt;a href="story/1"&gt;more&lt;/a&gt;&lt;/p&gt;</description>
                <content:encoded><![CDATA[<iframe src="https://evil.example/"></iframe><img src="/chart.png" alt="Chart" onerror="x()"><p style="color:red">Body &amp; soul</p>]]></content:encoded>
              </item></channel></rss>
            """);

        item.Summary.Should().Contain("<script>", "Summary is the HTML as given");
        item.SafeSummary.Should().Be("<p>Stocks <b>rose</b> <a>here</a> <a href=\"https://news.example/markets/story/1\" rel=\"nofollow noopener noreferrer\">more</a></p>");
        item.SummaryText.Should().Be("Stocks rose here more");
        item.SafeContent.Should().Be("<img src=\"https://news.example/chart.png\" alt=\"Chart\"><p>Body &amp; soul</p>");
        item.ContentText.Should().Be("Body & soul");
    }

    [Fact]
    public void Atom_text_summary_is_escaped_so_it_stays_text_when_read_as_html()
    {
        var item = Single($"""<feed xmlns="{AtomNs}"><title>t</title><entry><id>1</id><title>x</title><summary type="text">Use &lt;b&gt; for bold &amp; more</summary></entry></feed>""");

        item.Summary.Should().Be("Use &lt;b&gt; for bold &amp; more");
        item.SummaryText.Should().Be("Use <b> for bold & more");
    }

    [Fact]
    public void Feed_and_item_ids_come_from_every_format()
    {
        Parse($"""<feed xmlns="{AtomNs}"><title>t</title><id>tag:example.com,2025:feed</id></feed>""").Id.Should().Be("tag:example.com,2025:feed");
        Parse("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
              <channel rdf:about="https://rdf.example/rss"><title>t</title><link>https://rdf.example/</link></channel>
            </rdf:RDF>
            """).Id.Should().Be("https://rdf.example/rss");
        var rss = Parse("""
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
              <atom:link rel="self" href="https://rss.example/feed.xml"/><atom:id>urn:rss-feed</atom:id></channel></rss>
            """);
        rss.Id.Should().Be("urn:rss-feed");
        rss.SelfLink.Should().Be("https://rss.example/feed.xml");
    }

    [Fact]
    public void Atom_links_are_chosen_by_rel_priority_and_a_link_may_carry_its_url_as_text()
    {
        var feed = Parse($"""
            <feed xmlns="{AtomNs}"><title>t</title><id>f</id>
              <entry><id>1</id><title>a</title>
                <link rel="self" href="https://x.example/self/1"/><link rel="edit" href="https://x.example/edit/1"/>
                <link rel="related" href="https://x.example/related/1"/><link rel="alternate" type="application/pdf" href="https://x.example/1.pdf"/>
                <link rel="alternate" type="text/html" href="https://x.example/1.html"/>
              </entry>
              <entry><id>2</id><title>b</title><link rel="self" href="https://x.example/self/2"/><link rel="related" href="https://x.example/related/2"/></entry>
              <entry><id>3</id><title>c</title><link>https://x.example/text/3</link></entry>
              <entry><id>4</id><title>d</title><link rel="replies" href="https://x.example/comments/4"/><link rel="via" href="https://x.example/via/4"/></entry>
              <entry><id>5</id><title>e</title><link rel="self" href="https://x.example/self/5"/></entry>
            </feed>
            """);

        feed.Items.Select(i => i.Link).Should().Equal(
            "https://x.example/1.html",
            "https://x.example/related/2",
            "https://x.example/text/3",
            "https://x.example/via/4",
            null);
    }

    [Fact]
    public void Rss_links_fall_back_to_atom_link_href_attribute_permalink_guid_and_rdf_about()
    {
        var rss = Parse("""
            <rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
              <item><title>1</title><link href="https://r.example/attr"/></item>
              <item><title>2</title><atom:link rel="alternate" href="https://r.example/atom"/></item>
              <item><title>3</title><guid>https://r.example/guid</guid></item>
              <item><title>4</title><guid isPermaLink="false">https://r.example/not-a-permalink</guid></item>
            </channel></rss>
            """);
        rss.Items.Select(i => i.Link).Should().Equal("https://r.example/attr", "https://r.example/atom", "https://r.example/guid", null);

        var rdf = Single("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
              <channel rdf:about="https://rdf.example/"><title>t</title></channel>
              <item rdf:about="https://rdf.example/story/9"><title>No link element</title></item>
            </rdf:RDF>
            """);
        rdf.Link.Should().Be("https://rdf.example/story/9");
        rdf.Id.Should().Be("https://rdf.example/story/9");
    }

    [Fact]
    public void An_rss_document_without_a_channel_is_read_from_its_root()
    {
        // CodeHollow.FeedReader throws NullReferenceException here.
        var feed = Parse("""<rss version="2.0"><title>Bare</title><item><title>Loose item</title><link>https://bare.example/1</link></item></rss>""");

        feed.Title.Should().Be("Bare");
        feed.Items.Should().ContainSingle().Which.Link.Should().Be("https://bare.example/1");
    }

    [Theory]
    [InlineData("desk@example.com (Market Desk)", "Market Desk", "desk@example.com")]
    [InlineData("Market Desk <desk@example.com>", "Market Desk", "desk@example.com")]
    [InlineData("\"Market Desk\" <desk@example.com>", "Market Desk", "desk@example.com")]
    [InlineData("Market Desk (desk@example.com)", "Market Desk", "desk@example.com")]
    [InlineData("mailto:desk@example.com", null, "desk@example.com")]
    [InlineData("desk@example.com", null, "desk@example.com")]
    [InlineData("  Jane   Roe ", "Jane Roe", null)]
    [InlineData("Roe, Jane (Reuters)", "Roe, Jane (Reuters)", null)]
    public void Rss_author_text_is_split_into_name_and_email(string text, string? name, string? email)
    {
        var item = Single($"""<rss version="2.0"><channel><title>t</title><item><title>x</title><author>{System.Security.SecurityElement.Escape(text)}</author></item></channel></rss>""");

        item.Authors.Should().Equal(new FeedAuthor(name, email));
    }

    [Fact]
    public void Authors_come_from_every_form_without_duplicates()
    {
        var feed = Parse($"""
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:atom="{AtomNs}">
              <channel><title>t</title><managingEditor>editor@example.com (The Editor)</managingEditor><itunes:author>Podcast House</itunes:author>
                <item><title>x</title>
                  <author>jane@example.com (Jane Roe)</author>
                  <dc:creator>Jane Roe</dc:creator>
                  <dc:author>John Doe</dc:author>
                  <itunes:author>Voice Over</itunes:author>
                  <atom:author><atom:name>Ann Atom</atom:name><atom:email>ann@example.com</atom:email><atom:uri>https://ann.example/</atom:uri></atom:author>
                </item></channel></rss>
            """);

        feed.Authors.Should().Equal(new FeedAuthor("The Editor", "editor@example.com"), new FeedAuthor("Podcast House"));
        feed.Items.Single().Authors.Should().Equal(
            new FeedAuthor("Jane Roe", "jane@example.com"),
            new FeedAuthor("John Doe"),
            new FeedAuthor("Voice Over"),
            new FeedAuthor("Ann Atom", "ann@example.com", "https://ann.example/"));
    }

    [Fact]
    public void Json_feed_1_1_is_read_with_authors_tags_attachments_and_relative_links()
    {
        var feed = Parse("""
            {
              "version": "https://jsonfeed.org/version/1.1",
              "title": "Desk &amp; <b>Wire</b>",
              "home_page_url": "https://json.example/",
              "feed_url": "https://json.example/feed.json",
              "description": "Markets <daily>",
              "language": "en-GB",
              "authors": [{ "name": "Desk", "url": "mailto:desk@json.example" }],
              "items": [
                {
                  "id": "j-1", "url": "/2025/03/one", "title": "First <i>item</i>",
                  "content_html": "<p>Hello <script>x()</script>world</p>", "summary": "A & B",
                  "date_published": "2025-03-01T10:00:00+01:00", "date_modified": "2025-03-01T11:00:00Z",
                  "tags": ["rates", "rates", "fx"],
                  "attachments": [{ "url": "https://cdn.json.example/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 42 }]
                },
                { "id": 17, "external_url": "https://elsewhere.example/x", "content_text": "plain <text>",
                  "authors": [{ "name": "Guest", "url": "https://guest.example/" }], "date_published": "2025-02-30T10:00:00Z" }
              ]
            }
            """);

        feed.Format.Should().Be(FeedFormat.JsonFeed11);
        feed.Title.Should().Be("Desk & Wire");
        feed.Link.Should().Be("https://json.example/");
        feed.Id.Should().Be("https://json.example/feed.json");
        feed.Language.Should().Be("en-GB");
        feed.Authors.Should().Equal(new FeedAuthor("Desk", "desk@json.example"));

        var first = feed.Items[0];
        first.Id.Should().Be("j-1");
        first.Title.Should().Be("First item");
        first.Link.Should().Be("https://json.example/2025/03/one");
        first.Published.Should().Be(DateTimeOffset.Parse("2025-03-01T09:00:00Z", CultureInfo.InvariantCulture));
        first.Updated.Should().Be(DateTimeOffset.Parse("2025-03-01T11:00:00Z", CultureInfo.InvariantCulture));
        first.Authors.Should().Equal(new FeedAuthor("Desk", "desk@json.example"));
        first.SafeContent.Should().Be("<p>Hello world</p>");
        first.SummaryText.Should().Be("A & B");
        first.Categories.Should().Equal("rates", "fx");
        first.Enclosures.Should().Equal(new Enclosure("https://cdn.json.example/a.mp3", "audio/mpeg", 42));

        var second = feed.Items[1];
        second.Id.Should().Be("17");
        second.Link.Should().Be("https://elsewhere.example/x");
        second.ContentText.Should().Be("plain <text>");
        second.Authors.Should().Equal(new FeedAuthor("Guest", null, "https://guest.example/"));
        second.Published.Should().BeNull();
        second.DateIssue.Should().Be(DateIssue.Impossible);
    }

    [Fact]
    public void Json_feed_1_0_with_a_single_author_object()
    {
        var feed = Parse("""{"version":"https://jsonfeed.org/version/1","title":"Old","author":{"name":"Solo"},"items":[{"id":"1","url":"https://old.example/1","content_text":"x"}]}""");

        feed.Format.Should().Be(FeedFormat.JsonFeed10);
        feed.Items.Single().Authors.Should().Equal(new FeedAuthor("Solo"));
    }

    [Theory]
    [InlineData("""{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[""", "not valid JSON")]
    [InlineData("""{"name":"not a feed"}""", "not a JSON Feed")]
    [InlineData("""[1,2,3]""", "not a JSON Feed")]
    public void Json_that_is_not_a_json_feed_is_a_clear_error(string json, string phrase)
    {
        var act = () => Parse(json);

        act.Should().Throw<FeedParseException>().Which.Message.Should().Contain(phrase);
    }

    [Fact]
    public void Item_dates_that_cannot_be_used_are_flagged_not_guessed()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>t</title>
              <item><title>ok</title><pubDate>Fri, 24 Jan 2025 11:00:00 GMT</pubDate></item>
              <item><title>impossible</title><pubDate>Fri, 30 Feb 2025 11:00:00 GMT</pubDate></item>
              <item><title>ambiguous</title><pubDate>03/04/2025</pubDate></item>
              <item><title>none</title></item>
            </channel></rss>
            """);

        feed.Items.Select(i => (i.Published, i.DateIssue)).Should().Equal(
            (DateTimeOffset.Parse("2025-01-24T11:00:00Z", CultureInfo.InvariantCulture), DateIssue.None),
            ((DateTimeOffset?)null, DateIssue.Impossible),
            ((DateTimeOffset?)null, DateIssue.Unreadable),
            ((DateTimeOffset?)null, DateIssue.None));
    }
}
