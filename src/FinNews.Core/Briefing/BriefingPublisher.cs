namespace FinNews.Core.Briefing;

/// <summary>Writes a stored briefing's Markdown, HTML and JSON renderings into the data folder.</summary>
public sealed class BriefingPublisher
{
    private readonly string _directory;
    private readonly SiteLinks _links;

    /// <param name="directory">Folder for the files (created if missing).</param>
    /// <param name="publicBaseUrl">The site's public address (Web:PublicBaseUrl): links to its pages in the files are made
    /// absolute under it; without one they are plain text (a relative link would point into the file system).</param>
    public BriefingPublisher(string directory, string? publicBaseUrl = null)
    {
        _directory = directory;
        _links = SiteLinks.Standalone(publicBaseUrl);
    }

    /// <summary>The built-in stylesheet, shared by the web pages and the standalone HTML files.</summary>
    public static string Css { get; } = LoadCss();

    /// <summary>Writes the three renderings; returns their paths (md, html, json).</summary>
    public IReadOnlyList<string> Publish(BriefingDocument briefing)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        Directory.CreateDirectory(_directory);
        var stem = Path.Combine(_directory, briefing.Id);
        var files = new[]
        {
            (Path: stem + ".md", Text: BriefingRenderer.ToMarkdown(briefing, _links)),
            (Path: stem + ".html", Text: BriefingRenderer.ToHtmlDocument(briefing, Css, _links)),
            (Path: stem + ".json", Text: BriefingRenderer.ToJson(briefing)),
        };
        foreach (var (path, text) in files)
        {
            // Write then rename, so a reader never sees half a file. The temporary name is this write's own: two
            // publishes of one briefing at once (the first pass and a scheduled run, two nodes) each rename their
            // complete file, and the last rename wins, instead of one renaming the other's file away.
            var temp = $"{path}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }

        return files.Select(f => f.Path).ToList();
    }

    private static string LoadCss()
    {
        using var stream = typeof(BriefingPublisher).Assembly.GetManifestResourceStream("FinNews.Core.Briefing.site.css")
            ?? throw new InvalidOperationException("Embedded stylesheet FinNews.Core.Briefing.site.css is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
