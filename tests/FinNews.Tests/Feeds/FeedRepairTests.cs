using FinNews.Core.Feeds;
using static FinNews.Tests.Feeds.FeedTestDocs;

namespace FinNews.Tests.Feeds;

public class FeedRepairTests
{
    [Fact]
    public void Html_entities_are_repaired_and_every_item_flagged()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>Caf&eacute;&nbsp;News</title>
              <item><title>Stocks&nbsp;rally &mdash; Dow &rsquo;up&rsquo; &euro;5</title><link>https://example.com/1</link></item>
              <item><title>Second</title></item>
            </channel></rss>
            """);

        feed.Title.Should().Be("Caf\u00E9 News", "titles are plain text, a no-break space a space");
        feed.Items[0].Title.Should().Be("Stocks rally \u2014 Dow \u2019up\u2019 \u20AC5");
        feed.Items.Should().OnlyContain(i => i.Repaired);
    }

    [Fact]
    public void Bare_ampersands_are_escaped_in_text_and_attributes()
    {
        var item = Single("""
            <rss version="2.0"><channel><title>t</title>
              <item><title>AT&T and a & b &amp; c &#169; &#xA9;</title>
                <enclosure url="https://example.com/a.mp3?x=1&y=2" type="audio/mpeg"/>
                <link>https://example.com/?a=1&b=2</link></item>
            </channel></rss>
            """);

        item.Title.Should().Be("AT&T and a & b & c © ©");
        item.Link.Should().Be("https://example.com/?a=1&b=2");
        item.Enclosures.Single().Url.Should().Be("https://example.com/a.mp3?x=1&y=2");
        item.Repaired.Should().BeTrue();
    }

    [Fact]
    public void Unknown_entity_names_stay_visible_as_text()
    {
        Single("""<rss><channel><item><title>P&L &bogus; Q&A;</title></item></channel></rss>""")
            .Title.Should().Be("P&L &bogus; Q&A;");
    }

    [Fact]
    public void Cdata_is_not_touched_by_repair()
    {
        var item = Single("""
            <rss><channel><item><title>A &nbsp; B</title>
              <description><![CDATA[AT&T &nbsp; <b>raw</b>]]></description></item></channel></rss>
            """);

        item.Summary.Should().Be("AT&T &nbsp; <b>raw</b>");
        item.Repaired.Should().BeTrue();
    }

    [Fact]
    public void Control_characters_are_dropped_during_repair()
    {
        Single("<rss><channel><item><title>a\u000Bb\u0001c &amp; d</title></item></channel></rss>").Title.Should().Be("abc & d");
    }

    [Fact]
    public void Well_formed_documents_are_not_repaired()
    {
        var item = Single("""<rss><channel><item><title>AT&amp;T &#160; &lt;b&gt;</title></item></channel></rss>""");

        item.Title.Should().Be("AT&T", "an RSS title is HTML: the escaped <b> is markup, and titles are plain text");
        item.Repaired.Should().BeFalse();
    }

    [Fact]
    public void A_document_that_still_fails_reports_line_and_position()
    {
        var act = () => Parse("<rss>\n<channel>\n<item><title>AT&T</title></itm>\n</channel></rss>");

        var message = act.Should().Throw<FeedParseException>().Which.Message;
        message.Should().Contain("not well-formed").And.Contain("Line 3").And.Contain("position");
    }

    [Fact]
    public void Repair_never_touches_comments_or_processing_instructions()
    {
        var repaired = FeedRepair.Repair("<?xml-stylesheet href=\"a?b=1&c=2\"?><!-- a & b --><r>x & y &nbsp;</r>");

        repaired.Should().Be("<?xml-stylesheet href=\"a?b=1&c=2\"?><!-- a & b --><r>x &amp; y &#160;</r>");
    }
}
