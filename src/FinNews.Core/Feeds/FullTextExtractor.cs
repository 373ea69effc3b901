using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace FinNews.Core.Feeds;

/// <summary>How the article text was found on the page.</summary>
public enum FullTextMethod
{
    None,
    JsonLd,
    ArticleElement,
    DensestBlock,
}

/// <summary>
/// Pulls an article's body out of its web page: schema.org JSON-LD <c>articleBody</c> first (publishers put the
/// clean text there), then the page's <c>&lt;article&gt;</c>, then the block with the most paragraph text and the
/// fewest links. Page markup is untrusted: only text comes out.
/// </summary>
public static class FullTextExtractor
{
    private static readonly HtmlParser Parser = new();

    /// <summary>Text shorter than this is not taken as an article body (cookie banners, teasers).</summary>
    public const int MinLength = 200;

    /// <summary>Extracts the body text; <see cref="FullTextMethod.None"/> with empty text when nothing credible is found.</summary>
    public static (string Text, FullTextMethod Method) Extract(string? html)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return ("", FullTextMethod.None);
        }

        var document = Parser.ParseDocument(html);
        foreach (var script in document.QuerySelectorAll("script[type='application/ld+json']"))
        {
            var body = ArticleBody(script.TextContent);
            if (body is not null && body.Length >= MinLength)
            {
                return (HtmlText.ToText(body), FullTextMethod.JsonLd);
            }
        }

        foreach (var noise in document.QuerySelectorAll("script, style, noscript, nav, header, footer, aside, form, iframe, template"))
        {
            noise.Remove();
        }

        var article = document.QuerySelectorAll("article").Select(a => (Element: a, Text: ParagraphText(a)))
            .OrderByDescending(a => a.Text.Length).FirstOrDefault();
        if (article.Element is not null && article.Text.Length >= MinLength)
        {
            return (article.Text, FullTextMethod.ArticleElement);
        }

        // Densest block: the parent whose direct <p> children hold the most text not inside links.
        var best = document.QuerySelectorAll("p")
            .Select(p => p.ParentElement)
            .Where(p => p is not null)
            .Distinct()
            .Select(parent => (Element: parent!, Score: Score(parent!)))
            .OrderByDescending(x => x.Score)
            .FirstOrDefault();
        if (best.Element is not null)
        {
            var text = ParagraphText(best.Element);
            if (text.Length >= MinLength)
            {
                return (text, FullTextMethod.DensestBlock);
            }
        }

        return ("", FullTextMethod.None);
    }

    private static double Score(IElement parent)
    {
        double score = 0;
        foreach (var p in parent.Children.Where(c => c.LocalName == "p"))
        {
            var all = p.TextContent.Length;
            var linked = p.QuerySelectorAll("a").Sum(a => a.TextContent.Length);
            score += all - (2.0 * linked);
        }

        return score;
    }

    private static string ParagraphText(IElement root)
    {
        var paragraphs = root.QuerySelectorAll("p, h2, h3, li").Select(p => HtmlText.ToText(p.InnerHtml)).Where(t => t.Length > 0).ToList();
        return paragraphs.Count > 0 ? string.Join('\n', paragraphs) : HtmlText.ToText(root.InnerHtml);
    }

    // JSON-LD may be one object, an array, or an @graph; the article may be any of NewsArticle, Article, ReportageNewsArticle...
    private static string? ArticleBody(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return Find(doc.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Find(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    if (e.TryGetProperty("articleBody", out var body) && body.ValueKind == JsonValueKind.String)
                    {
                        return body.GetString();
                    }

                    foreach (var property in e.EnumerateObject())
                    {
                        if (Find(property.Value) is { } found)
                        {
                            return found;
                        }
                    }

                    return null;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        if (Find(item) is { } found)
                        {
                            return found;
                        }
                    }

                    return null;
                default:
                    return null;
            }
        }
    }
}
