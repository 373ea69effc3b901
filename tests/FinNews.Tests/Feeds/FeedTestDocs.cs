using System.Text;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>Helpers for tests that parse small inline documents.</summary>
internal static class FeedTestDocs
{
    public static ParsedFeed Parse(string xml, Uri? baseUri = null) => FeedParser.Parse(Encoding.UTF8.GetBytes(xml), baseUri: baseUri);

    public static ParsedItem Single(string xml, Uri? baseUri = null) => Parse(xml, baseUri).Items.Should().ContainSingle().Subject;
}
