using System.Xml;
using System.Xml.Linq;

namespace FinNews.Core.Feeds;

/// <summary>
/// Reads RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 0.3/1.0 (also in non-standard namespaces) and JSON Feed 1.0/1.1
/// documents into <see cref="ParsedFeed"/>.
/// </summary>
/// <remarks>
/// Safe on hostile input: DTDs are refused and nothing is ever resolved or fetched (no entity expansion, no XXE).
/// Every failure surfaces as <see cref="FeedParseException"/> with a message naming the problem, so one broken feed
/// never takes down a poll. Messages say what is wrong and where (line, position), never quoting the document: a
/// feed's bytes can be an internal server's answer, and errors are shown on the feed-health page and API.
/// Documents that are ill-formed only through HTML entities or bare ampersands are repaired and parsed again, and
/// their items are flagged <see cref="ParsedItem.Repaired"/>; so are items whose text was mojibake (UTF-8 read as
/// Latin-1) and was repaired. Size is bounded: the whole document
/// (<see cref="MaxDocumentBytes"/>), any one text field or attribute value (<see cref="MaxFieldChars"/>) and the
/// number of elements (<see cref="MaxElements"/>), so a hostile document is refused before it is loaded.
/// </remarks>
public static class FeedParser
{
    /// <summary>Largest document parsed, in bytes (and in characters once decoded).</summary>
    public const int MaxDocumentBytes = 64 * 1024 * 1024;

    /// <summary>Longest text of one field (one element's run of text, or one attribute value), in characters.</summary>
    public const int MaxFieldChars = 1024 * 1024;

    /// <summary>Most elements in one document (a large real feed has tens of thousands).</summary>
    public const int MaxElements = 500_000;

    /// <summary>Parses a feed document.</summary>
    /// <param name="bytes">The raw document.</param>
    /// <param name="contentTypeCharset">The charset parameter of the HTTP Content-Type header, if any.</param>
    /// <param name="baseUri">The feed URL, used to resolve relative links (after any xml:base).</param>
    /// <exception cref="FeedParseException">The document is empty, not XML, not a feed, or declares a DTD.</exception>
    public static ParsedFeed Parse(ReadOnlySpan<byte> bytes, string? contentTypeCharset = null, Uri? baseUri = null)
    {
        try
        {
            if (bytes.IsEmpty)
            {
                throw new FeedParseException("The document is empty.");
            }

            if (bytes.Length > MaxDocumentBytes)
            {
                throw new FeedParseException($"The document is {bytes.Length} bytes, over the {MaxDocumentBytes}-byte limit for one feed.");
            }

            var text = FeedCharset.Decode(bytes, contentTypeCharset);
            return ParseText(text, baseUri);
        }
        catch (FeedParseException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The contract is "FeedParseException or a feed": anything unexpected is a bug we still must not leak.
            // Not its message: some (a decoder's, for one) quote the bytes they choked on.
            throw new FeedParseException($"The feed could not be read ({ex.GetType().Name}).", ex);
        }
    }

    /// <summary>Reads <paramref name="stream"/> to its end, then parses it as <see cref="Parse(ReadOnlySpan{byte}, string?, Uri?)"/> does.</summary>
    /// <exception cref="FeedParseException">The stream cannot be read, is longer than <see cref="MaxDocumentBytes"/>, or is not a readable feed.</exception>
    public static ParsedFeed Parse(Stream stream, string? contentTypeCharset = null, Uri? baseUri = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                // Capped while reading: a stream that never ends stops here, not at the end of memory.
                if (buffer.Length + read > MaxDocumentBytes)
                {
                    throw new FeedParseException($"The feed stream is longer than the {MaxDocumentBytes}-byte limit for one feed; reading stopped there.");
                }

                buffer.Write(chunk, 0, read);
            }

            bytes = buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException or ObjectDisposedException or UnauthorizedAccessException)
        {
            throw new FeedParseException($"The feed stream could not be read: {ex.Message}", ex);
        }

        return Parse(bytes.AsSpan(), contentTypeCharset, baseUri);
    }

    private static ParsedFeed ParseText(string text, Uri? baseUri)
    {
        // Whitespace before the XML declaration (a PHP habit) is not content, but it makes the declaration illegal.
        text = text.TrimStart();
        if (text.Length == 0)
        {
            throw new FeedParseException("The document is empty.");
        }

        if (text.Length > MaxDocumentBytes)
        {
            throw new FeedParseException($"The document is {text.Length} characters, over the {MaxDocumentBytes}-character limit for one feed.");
        }

        if (text[0] is '{' or '[')
        {
            return Repair(JsonFeedReader.Read(text, baseUri), false);
        }

        if (text[0] != '<')
        {
            // Said without quoting the document: its bytes may be an internal server's answer.
            throw new FeedParseException("The document is not XML or JSON: it does not start with '<' or '{'.");
        }

        XDocument document;
        var repaired = false;
        try
        {
            document = Load(text);
        }
        catch (XmlException strict)
        {
            document = LoadLeniently(text, strict, out repaired);
        }

        var root = document.Root ?? throw new FeedParseException("The document has no root element.");
        return Repair(Dispatch(root, baseUri), repaired);
    }

    // Mojibake repair on every text a reader shows, and the repaired flag on the items it touched (on every item
    // when the document itself needed repair).
    private static ParsedFeed Repair(ParsedFeed feed, bool documentRepaired)
    {
        var items = new List<ParsedItem>(feed.Items.Count);
        foreach (var item in feed.Items)
        {
            var fixedItem = item with
            {
                Title = Fix(item.Title),
                Summary = Fix(item.Summary),
                Content = Fix(item.Content),
                Authors = item.Authors.Any(a => Changes(a.Name)) ? item.Authors.Select(a => a with { Name = Fix(a.Name) }).ToList() : item.Authors,
                Categories = item.Categories.Any(Changes) ? item.Categories.Select(c => Fix(c)!).ToList() : item.Categories,
            };
            var changed = !ReferenceEquals(fixedItem.Title, item.Title) || !ReferenceEquals(fixedItem.Summary, item.Summary)
                || !ReferenceEquals(fixedItem.Content, item.Content) || !ReferenceEquals(fixedItem.Authors, item.Authors)
                || !ReferenceEquals(fixedItem.Categories, item.Categories);
            items.Add(changed || documentRepaired ? fixedItem with { Repaired = true } : item);
        }

        var title = Fix(feed.Title);
        var description = Fix(feed.Description);
        return feed with
        {
            Title = title,
            Description = description,
            Items = items,
            Repaired = documentRepaired || !ReferenceEquals(title, feed.Title) || !ReferenceEquals(description, feed.Description),
        };

        static string? Fix(string? text) => text is null ? null : FeedRepair.FixMojibake(text);
        static bool Changes(string? text) => text is not null && !ReferenceEquals(FeedRepair.FixMojibake(text), text);
    }

    private static ParsedFeed Dispatch(XElement root, Uri? baseUri)
    {
        var name = root.Name;
        if (name.LocalName.Equals("rss", StringComparison.OrdinalIgnoreCase))
        {
            return RssFeedReader.ReadRss(root, baseUri);
        }

        if (name.LocalName == "RDF" && (name.Namespace == FeedNamespaces.Rdf || name.Namespace == XNamespace.None))
        {
            return RssFeedReader.ReadRdf(root, baseUri);
        }

        if (name.LocalName == "feed"
            && (name.Namespace == FeedNamespaces.Atom10 || name.Namespace == FeedNamespaces.Atom03 || name.Namespace == XNamespace.None || AtomFeedReader.LooksLikeAtom(root)))
        {
            // A feed in a namespace of its own (a draft or misspelt Atom URI) is Atom when its children are Atom's.
            return AtomFeedReader.Read(root, baseUri);
        }

        // Named only by what it is, not quoted: the element's name is part of a document that may be a private answer.
        var what = name.LocalName.Equals("html", StringComparison.OrdinalIgnoreCase) ? "an HTML page"
            : name.LocalName.Equals("opml", StringComparison.OrdinalIgnoreCase) ? "an OPML subscription list"
            : name.LocalName is "rss" or "RDF" or "feed" ? $"a <{name.LocalName}> element in a namespace that is not a feed format's"
            : "another element";
        throw new FeedParseException($"Not a feed: the root element is {what}; expected <rss>, <rdf:RDF> or <feed>.");
    }

    // Real feeds nest a few dozen levels at most. LINQ to XML loads in time quadratic in the nesting depth and copies,
    // reads values and serializes recursively, so a hostile document nested thousands deep would stall the parser or
    // overflow the stack (which no catch can handle). A first, cheap streaming pass refuses such documents.
    internal const int MaxDepth = 256;

    // Elements whose children are other elements of the format, never text: feed, channel, item and entry levels,
    // person constructs, RDF sequences and Media RSS groups.
    private static readonly HashSet<string> StructuralElements = new(StringComparer.Ordinal)
    {
        "rss", "channel", "item", "RDF", "feed", "entry", "source", "author", "contributor", "image", "textinput", "textInput",
        "items", "Seq", "group", "owner", "category", "cloud",
    };

    internal static XDocument Load(string text)
    {
        var settings = new XmlReaderSettings
        {
            // No DTD means no entity declarations: billion-laughs and external-entity (XXE) payloads are refused
            // before anything is expanded, and with no resolver nothing is ever fetched.
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = true,

            // The text is already bounded (MaxDocumentBytes); this bounds the reader too, repairs included.
            MaxCharactersInDocument = (2L * MaxDocumentBytes) + 4096,
        };

        // Read from a StringReader: the text is already decoded, so the prolog's encoding label is not acted on.
        // One streaming pass builds the tree and refuses hostile shapes (depth, element count, one enormous field) as
        // it goes, before they are materialized: LINQ to XML would otherwise load in time quadratic in the nesting.
        using var reader = XmlReader.Create(new StringReader(text), settings);
        var document = new XDocument();
        XContainer current = document;
        var elements = 0;
        long run = 0;
        XNamespace lastNs = XNamespace.None;
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    if (reader.Depth >= MaxDepth)
                    {
                        throw new FeedParseException($"The document nests elements more than {MaxDepth} levels deep; refused as hostile.");
                    }

                    if (++elements > MaxElements)
                    {
                        throw new FeedParseException($"The document has more than {MaxElements} elements; refused as hostile.");
                    }

                    run = 0;
                    var ns = reader.NamespaceURI;
                    if (!ReferenceEquals(ns, lastNs.NamespaceName) && ns != lastNs.NamespaceName)
                    {
                        lastNs = XNamespace.Get(ns);
                    }

                    var element = new XElement(lastNs.GetName(reader.LocalName));
                    if (reader.MoveToFirstAttribute())
                    {
                        do
                        {
                            var value = reader.Value;
                            if (value.Length > MaxFieldChars)
                            {
                                throw TooLong(reader, "An attribute value");
                            }

                            // A default namespace declaration (xmlns="…") is the unprefixed name "xmlns" in LINQ to XML.
                            var attributeNs = reader.NamespaceURI;
                            var attributeName = attributeNs.Length == 0 || (reader.LocalName == "xmlns" && reader.Prefix.Length == 0)
                                ? XName.Get(reader.LocalName)
                                : XNamespace.Get(attributeNs).GetName(reader.LocalName);
                            element.Add(new XAttribute(attributeName, value));
                        }
                        while (reader.MoveToNextAttribute());

                        reader.MoveToElement();
                    }

                    current.Add(element);
                    if (!reader.IsEmptyElement)
                    {
                        current = element;
                    }

                    break;
                case XmlNodeType.EndElement:
                    run = 0;
                    current = current.Parent ?? (XContainer)document;
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    // Adjacent text and CDATA nodes make one field value; they count together.
                    var textValue = reader.Value;
                    run += textValue.Length;
                    if (run > MaxFieldChars)
                    {
                        throw TooLong(reader, "A text field");
                    }

                    // Whitespace between the elements of the feed's structure (channel, item, entry…) is indentation, never
                    // content: not kept (a pretty-printed feed has one such node per element). Inside fields it is kept,
                    // since in mixed markup ("<b>x</b> <i>y</i>") it separates words.
                    if (current is XElement parent
                        && !(reader.NodeType == XmlNodeType.Whitespace && StructuralElements.Contains(parent.Name.LocalName)))
                    {
                        parent.Add(reader.NodeType == XmlNodeType.CDATA ? new XCData(textValue) : new XText(textValue));
                    }

                    break;
            }
        }

        return document;
    }

    private static FeedParseException TooLong(XmlReader reader, string what)
    {
        var at = reader is IXmlLineInfo info && info.HasLineInfo() ? $" (Line {info.LineNumber}, position {info.LinePosition})" : "";
        return new FeedParseException($"{what} in the document is longer than {MaxFieldChars} characters{at}; refused as hostile.");
    }

    // "Line 3, position 7": where an XmlException happened, without its message (which quotes names and tokens).
    private static string Where(XmlException ex) => ex.LineNumber > 0 ? $" at Line {ex.LineNumber}, position {ex.LinePosition}" : "";

    // The strict parse failed: refuse DTD payloads, drop a harmless external DOCTYPE, or repair common damage.
    private static XDocument LoadLeniently(string text, XmlException strict, out bool repaired)
    {
        repaired = false;
        if (HasDoctype(text, out var isHtml))
        {
            if (isHtml)
            {
                throw new FeedParseException("The document is an HTML page, not a feed.", strict);
            }

            // An internal subset ([...]) is where entity declarations live (billion laughs, XXE): refused outright,
            // before any repair. A bare external identifier, such as the Netscape RSS 0.91 DOCTYPE that many real
            // feeds still carry, declares nothing here: it is dropped unread (there is no resolver to fetch it).
            if (!TryStripExternalDoctype(text, out var stripped))
            {
                throw new FeedParseException(
                    "A DTD/entity declaration (DOCTYPE with an internal subset) is not allowed in a feed; it was refused and nothing was expanded or fetched.",
                    strict);
            }

            text = stripped;
            try
            {
                return Load(text);
            }
            catch (XmlException)
            {
                // Fall through to the lenient repair (HTML entities the dropped DTD would have defined).
            }
        }

        try
        {
            // Repairs lengthen a document a little (a bare '&' becomes "&amp;"); one that would more than double is not a feed.
            var document = Load(FeedRepair.Repair(text, (2 * text.Length) + 4096));
            repaired = true;
            return document;
        }
        catch (Exception ex) when (ex is XmlException or FeedRepair.TooLongException)
        {
            // The original error describes the document the publisher sent, so that is the one reported: where it
            // is, not XmlException's wording, which quotes the names and tokens it found.
            throw new FeedParseException($"The feed is not well-formed XML{Where(strict)}.", strict);
        }
    }

    // Removes a prolog DOCTYPE that has only an external identifier (no internal subset); false when it has a subset.
    private static bool TryStripExternalDoctype(string text, out string stripped)
    {
        stripped = text;
        var start = text.IndexOf("<!DOCTYPE", StringComparison.OrdinalIgnoreCase);
        if (start < 0)
        {
            return false;
        }

        // Quoted system/public literals may contain '>' or '['; step over them.
        for (var i = start + 9; i < text.Length; i++)
        {
            var ch = text[i];
            if (ch is '"' or '\'')
            {
                var close = text.IndexOf(ch, i + 1);
                if (close < 0)
                {
                    return false;
                }

                i = close;
            }
            else if (ch == '[')
            {
                return false;
            }
            else if (ch == '>')
            {
                stripped = string.Concat(text.AsSpan(0, start), text.AsSpan(i + 1));
                return true;
            }
        }

        return false;
    }

    // Finds a DOCTYPE in the prolog (before the root element); a "<!DOCTYPE" inside content, e.g. in CDATA, is not one.
    private static bool HasDoctype(string text, out bool isHtml)
    {
        isHtml = false;
        var i = 0;
        while (true)
        {
            i = text.IndexOf('<', i);
            if (i < 0 || i + 1 >= text.Length)
            {
                return false;
            }

            if (text.AsSpan(i).StartsWith("<?", StringComparison.Ordinal))
            {
                i = Skip(text, i, "?>");
            }
            else if (text.AsSpan(i).StartsWith("<!--", StringComparison.Ordinal))
            {
                i = Skip(text, i, "-->");
            }
            else
            {
                var isDoctype = text.AsSpan(i).StartsWith("<!DOCTYPE", StringComparison.OrdinalIgnoreCase);
                if (isDoctype)
                {
                    var rest = text.AsSpan(i + 9).TrimStart();
                    isHtml = rest.StartsWith("html", StringComparison.OrdinalIgnoreCase) && !rest.Contains('[');
                }

                return isDoctype;
            }

            if (i < 0)
            {
                return false;
            }
        }

        static int Skip(string text, int from, string close)
        {
            var end = text.IndexOf(close, from + 2, StringComparison.Ordinal);
            return end < 0 ? -1 : end + close.Length;
        }
    }
}
