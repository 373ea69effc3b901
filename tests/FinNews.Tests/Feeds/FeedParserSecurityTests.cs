using System.Net;
using System.Net.Sockets;
using System.Text;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>DTDs are refused before anything is expanded or fetched.</summary>
public class FeedParserSecurityTests
{
    private const string BillionLaughs = """
        <?xml version="1.0"?>
        <!DOCTYPE lolz [
          <!ENTITY lol "lol">
          <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
          <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
          <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
          <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
          <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
          <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
          <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
          <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
        ]>
        <rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>
        """;

    [Fact]
    public void Billion_laughs_is_refused_without_expansion()
    {
        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(BillionLaughs));

        var ex = act.Should().Throw<FeedParseException>().Which;
        ex.Message.Should().Contain("DTD/entity declaration").And.Contain("not allowed");
        ex.Message.Should().NotContain("lollol");
    }

    [Fact]
    public void External_file_entity_is_refused_and_never_read()
    {
        const string xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <rss version="2.0"><channel><title>t</title><item><title>&xxe;</title><description>&xxe;</description></item></channel></rss>
            """;

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(xxe));

        var ex = act.Should().Throw<FeedParseException>().Which;
        ex.Message.Should().Contain("DTD/entity declaration").And.Contain("not allowed");
        AllMessages(ex).Should().NotContain("root:").And.NotContain("/bin/");
    }

    [Fact]
    public void External_http_entity_is_refused_and_nothing_is_fetched()
    {
        // A real listener on loopback: if the parser ever dereferenced the entity, a connection would be pending.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var xxe = $"""
            <?xml version="1.0"?>
            <!DOCTYPE rss [ <!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %remote; <!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/secret"> ]>
            <rss version="2.0"><channel><title>&xxe;</title></channel></rss>
            """;

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(xxe));

        act.Should().Throw<FeedParseException>().WithMessage("*DTD/entity declaration*not allowed*");
        Thread.Sleep(100);
        listener.Pending().Should().BeFalse("no request may be made for an external entity");
    }

    [Fact]
    public void An_external_doctype_without_internal_subset_is_dropped_unread_and_the_feed_parses()
    {
        // The Netscape RSS 0.91 DOCTYPE that many real feeds carry declares nothing locally; its HTML entities are
        // repaired like any undefined entity. A real listener proves the DTD is never fetched.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var doc = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.1:{port}/rss-0.91.dtd">
            <rss version="0.91"><channel><title>Old&nbsp;feed</title><link>https://old.example/</link>
            <item><title>First</title><link>https://old.example/1</link></item></channel></rss>
            """;

        var feed = FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        feed.Format.Should().Be(FeedFormat.Rss091);
        feed.Title.Should().Be("Old feed");
        feed.Items.Should().ContainSingle().Which.Link.Should().Be("https://old.example/1");
        Thread.Sleep(100);
        listener.Pending().Should().BeFalse("the external DTD must never be fetched");
    }

    [Fact]
    public void A_doctype_inside_cdata_content_is_not_a_dtd()
    {
        const string doc = """<rss version="2.0"><channel><title>t</title><item><title>x</title><description><![CDATA[<!DOCTYPE html><p>hi</p>]]></description></item></channel></rss>""";

        FeedParser.Parse(Encoding.UTF8.GetBytes(doc)).Items.Single().Summary.Should().Be("<!DOCTYPE html><p>hi</p>");
    }

    private static string AllMessages(Exception ex) => ex.InnerException is null ? ex.Message : ex.Message + "\n" + AllMessages(ex.InnerException);

    [Theory]
    [InlineData("<description>{0}</description>")]
    [InlineData("<description><![CDATA[{0}]]></description>")]
    [InlineData("<description>{1}<![CDATA[{1}]]>{1}</description>")]
    [InlineData("<enclosure url=\"https://x.test/{0}\" type=\"audio/mpeg\"/>")]
    public void A_field_longer_than_the_field_limit_is_refused_with_a_clear_error(string field)
    {
        // One field well over the limit, or three adjacent runs that only together are; all under the document limit.
        var big = new string('a', FeedParser.MaxFieldChars + 10);
        var third = new string('a', (FeedParser.MaxFieldChars / 3) + 10);
        var doc = $"<rss version=\"2.0\"><channel><title>t</title><item><title>x</title>{string.Format(System.Globalization.CultureInfo.InvariantCulture, field, big, third)}</item></channel></rss>";

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        var message = act.Should().Throw<FeedParseException>().Which.Message;
        message.Should().MatchRegex(@"^(A text field|An attribute value) in the document is longer than 1048576 characters \(Line 1, position \d+\); refused as hostile\.$");
    }

    [Fact]
    public void A_field_just_under_the_limit_still_parses()
    {
        var text = new string('a', FeedParser.MaxFieldChars - 10);
        var doc = $"<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><description>{text}</description></item></channel></rss>";

        FeedParser.Parse(Encoding.UTF8.GetBytes(doc)).Items.Single().Summary.Should().HaveLength(text.Length);
    }

    [Fact]
    public void A_document_with_more_elements_than_the_limit_is_refused()
    {
        var doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title>"
            + string.Concat(Enumerable.Repeat("<category/>", FeedParser.MaxElements)) + "</item></channel></rss>";

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        act.Should().Throw<FeedParseException>().WithMessage($"The document has more than {FeedParser.MaxElements} elements; refused as hostile.");
    }

    [Fact]
    public void A_stream_that_never_ends_is_refused_at_the_document_limit()
    {
        var act = () => FeedParser.Parse(new EndlessStream());

        act.Should().Throw<FeedParseException>()
            .WithMessage($"The feed stream is longer than the {FeedParser.MaxDocumentBytes}-byte limit for one feed; reading stopped there.");
    }

    [Fact]
    public void A_repair_that_would_more_than_double_the_document_is_refused()
    {
        // Every bare '&' becomes "&amp;": a document made of them would grow fivefold while being repaired.
        var doc = "<rss version=\"2.0\"><channel><title>" + new string('&', 200_000) + "</title></channel></rss>";

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        act.Should().Throw<FeedParseException>().WithMessage("The feed is not well-formed XML at Line 1, position *.");
    }

    [Fact]
    public void A_json_feed_nested_deeper_than_the_limit_is_refused()
    {
        var doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"1\",\"x\":" + new string('[', 5000) + new string(']', 5000) + "}]}";

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        act.Should().Throw<FeedParseException>().WithMessage("The document looks like JSON but is not valid JSON at Line 1, position *.");
    }

    [Fact]
    public void A_json_feed_field_longer_than_the_field_limit_is_refused()
    {
        var doc = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"1\",\"content_html\":\"" + new string('a', FeedParser.MaxFieldChars + 1) + "\"}]}";

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        act.Should().Throw<FeedParseException>().WithMessage("A text field in the document is longer than 1048576 characters; refused as hostile.");
    }

    [Fact]
    public void Json_errors_do_not_quote_the_document()
    {
        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes("{\"secret-token\": \"hunter2\" oops}"));

        AllMessages(act.Should().Throw<FeedParseException>().Which).Should().NotContain("hunter2").And.NotContain("oops");
    }

    [Fact]
    public void Internal_entities_are_refused_where_codehollow_feedreader_expands_them()
    {
        // FeedReader (XDocument with its default settings) expands internal entities up to ~10M characters.
        const string doc = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
              <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <rss version="2.0"><channel><title>&b;</title></channel></rss>
            """;

        var act = () => FeedParser.Parse(Encoding.UTF8.GetBytes(doc));

        act.Should().Throw<FeedParseException>().WithMessage("*DTD/entity declaration*not allowed*");
    }

    [Fact]
    public void Sanitized_html_keeps_no_script_handler_style_or_unsafe_url()
    {
        const string hostile = """
            <p onmouseover="x()" style="background:url(javascript:y())">a</p><script>z()</script><svg onload="w()"><a xlink:href="javascript:v()">s</a></svg>
            <a href=" JaVaScRiPt:alert(1)">j</a><a href="data:text/html,<script>1</script>">d</a><img src="javascript:alert(2)"><img src=x onerror=alert(3)>
            <iframe srcdoc="<script>4</script>"></iframe><form action="https://evil.example/"><input name=p></form><object data="x.swf"></object>
            <math><mi xlink:href="javascript:5">m</mi></math><style>body{}</style><template><script>6</script></template><a href="vbscript:7">v</a>
            """;

        var safe = HtmlText.Sanitize(hostile, new Uri("https://news.example/"));

        safe.Should().NotContainAny("script", "javascript", "vbscript", "data:", "onmouseover", "onerror", "onload", "style", "iframe", "form", "object", "svg", "math", "srcdoc");
        safe.Should().Contain("<p>a</p>").And.Contain("<a>j</a>").And.Contain("<img src=\"https://news.example/x\">");
    }

    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => count;
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
