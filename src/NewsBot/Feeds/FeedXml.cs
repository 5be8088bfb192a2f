using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace NewsBot.Feeds;

/// <summary>XmlReader reading steps shared by the RSS and Atom parsers. Each Read* starts on a start element and ends after its end.</summary>
internal static partial class FeedXml
{
    public const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";
    public const string AtomNamespace = "http://www.w3.org/2005/Atom";
    public const string Atom03Namespace = "http://purl.org/atom/ns#";
    public const string MediaNamespace = "http://search.yahoo.com/mrss/";
    public const string XhtmlNamespace = "http://www.w3.org/1999/xhtml";
    public const string BloggerScheme = "http://www.blogger.com/atom/ns#";

    /// <summary>Recursive readers stop here: hostile nesting must not exhaust the stack.</summary>
    public const int MaxNesting = 64;

    private static readonly XmlWriterSettings FragmentSettings = new()
    {
        ConformanceLevel = ConformanceLevel.Fragment,
        OmitXmlDeclaration = true,
        CheckCharacters = false,
    };

    /// <summary>Moves to the next child element of the element at <paramref name="depth"/>; false (and past its end) when there is none.</summary>
    public static bool MoveToChild(XmlReader reader, int depth)
    {
        while (true)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
            {
                return true;
            }

            if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth)
            {
                reader.Read();
                return false;
            }

            if (!reader.Read())
            {
                return false;
            }
        }
    }

    /// <summary>Enters an element: false (and past it) when it is empty.</summary>
    public static bool Enter(XmlReader reader, out int depth)
    {
        depth = reader.Depth;
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return false;
        }

        reader.Read();
        return true;
    }

    /// <summary>All text of the element and its descendants, trimmed; null when blank.</summary>
    public static string? ReadText(XmlReader reader)
    {
        if (!Enter(reader, out var depth))
        {
            return null;
        }

        string? single = null;
        StringBuilder? builder = null;
        while (reader.NodeType != XmlNodeType.EndElement || reader.Depth != depth)
        {
            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                if (single is null)
                {
                    single = reader.Value;
                }
                else
                {
                    builder ??= new StringBuilder(single);
                    builder.Append(reader.Value);
                }
            }

            if (!reader.Read())
            {
                break;
            }
        }

        reader.Read();
        return TrimToNull(builder?.ToString() ?? single);
    }

    /// <summary>
    /// HTML as published: escaped or CDATA text is the HTML itself; unescaped child elements (invalid in RSS but
    /// common) are kept as markup.
    /// </summary>
    public static string? ReadHtml(XmlReader reader)
    {
        if (!Enter(reader, out var depth))
        {
            return null;
        }

        string? single = null;
        StringBuilder? builder = null;
        while (reader.NodeType != XmlNodeType.EndElement || reader.Depth != depth)
        {
            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                if (single is null && builder is null)
                {
                    single = reader.Value;
                }
                else
                {
                    builder ??= new StringBuilder(single);
                    builder.Append(reader.Value);
                }
            }
            else if (reader.NodeType == XmlNodeType.Element)
            {
                builder ??= new StringBuilder(single);
                try
                {
                    using var writer = XmlWriter.Create(builder, FragmentSettings);
                    writer.WriteNode(reader, defattr: false);
                }
                catch (ArgumentException e)
                {
                    // A character reference to a lone surrogate (&#xD800;) passes the lenient reader but cannot be written.
                    throw new FeedFormatException($"Invalid character in markup near {FeedParser.DescribePosition(reader)}: {e.Message}", e);
                }

                continue;
            }

            if (!reader.Read())
            {
                break;
            }
        }

        reader.Read();
        var html = builder?.ToString() ?? single;
        return TrimToNull(html?.Replace(" xmlns=\"" + XhtmlNamespace + "\"", "", StringComparison.Ordinal));
    }

    /// <summary>RFC 4287 §3.1.1.3: xhtml content is one xhtml:div whose children are the content.</summary>
    public static string? ReadXhtml(XmlReader reader)
    {
        if (!Enter(reader, out var depth))
        {
            return null;
        }

        string? html = null;
        while (MoveToChild(reader, depth))
        {
            if (reader.LocalName == "div" && html is null)
            {
                try
                {
                    html = reader.ReadInnerXml();
                }
                catch (ArgumentException e)
                {
                    throw new FeedFormatException($"Invalid character in markup near {FeedParser.DescribePosition(reader)}: {e.Message}", e);
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return TrimToNull(html?.Replace(" xmlns=\"" + XhtmlNamespace + "\"", "", StringComparison.Ordinal));
    }

    /// <summary>An Atom text construct (RFC 4287 §3.1) as plain text: html is reduced to its text.</summary>
    public static string? ReadPlainText(XmlReader reader)
    {
        var type = reader.GetAttribute("type");
        var mode = reader.GetAttribute("mode");
        var text = ReadText(reader);
        if (text is not null && (IsHtmlType(type) || mode == "escaped"))
        {
            return HtmlToText(text);
        }

        return text;
    }

    /// <summary>An Atom text construct (RFC 4287 §3.1) as HTML.</summary>
    public static string? ReadHtmlConstruct(XmlReader reader)
    {
        var type = reader.GetAttribute("type");
        var mode = reader.GetAttribute("mode");
        if (reader.GetAttribute("src") is not null)
        {
            // RFC 4287 §4.1.3.2: out-of-line content; nothing to show inline.
            reader.Skip();
            return null;
        }

        if (type == "xhtml" || mode == "xml" && type is "application/xhtml+xml")
        {
            return ReadXhtml(reader);
        }

        if (IsHtmlType(type) || mode == "escaped" || mode == "xml")
        {
            return ReadHtml(reader);
        }

        if (type is null or "text" or "text/plain")
        {
            var text = ReadText(reader);
            return text is null ? null : WebUtility.HtmlEncode(text);
        }

        // Other media types (RFC 4287 §4.1.3.3) are not readable content.
        reader.Skip();
        return null;
    }

    public static string HtmlToText(string html)
    {
        var withoutTags = html.Contains('<') ? Tag().Replace(html, "") : html;
        return WebUtility.HtmlDecode(withoutTags).Trim();
    }

    /// <summary>The element's xml:base (XML Base §4.2) resolved against the parent base.</summary>
    public static Uri? ReadXmlBase(XmlReader reader, Uri? parent)
    {
        if (!reader.HasAttributes)
        {
            return parent;
        }

        var value = reader.GetAttribute("base", XmlNamespace);
        if (value is null)
        {
            return parent;
        }

        if (IsAbsolute(value) && Uri.TryCreate(value.Trim(), UriKind.Absolute, out var absolute))
        {
            return absolute;
        }

        return parent is not null && Uri.TryCreate(parent, value.Trim(), out var resolved) ? resolved : parent;
    }

    /// <summary>An absolute URL: kept as written when absolute, else resolved against the base (RFC 3986 §5.2).</summary>
    public static string? Resolve(string? href, Uri? baseUri)
    {
        if (string.IsNullOrWhiteSpace(href))
        {
            return null;
        }

        href = href.Trim();
        if (baseUri is null || IsAbsolute(href))
        {
            return href;
        }

        return Uri.TryCreate(baseUri, href, out var resolved) ? resolved.AbsoluteUri : href;
    }

    public static Uri? ParseAbsoluteUri(string? href) =>
        href is not null && IsAbsolute(href) && Uri.TryCreate(href, UriKind.Absolute, out var uri) ? uri : null;

    /// <summary>RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".</summary>
    public static bool IsAbsolute(string href)
    {
        var colon = href.IndexOf(':');
        if (colon <= 0 || !char.IsAsciiLetter(href[0]))
        {
            return false;
        }

        for (var i = 1; i < colon; i++)
        {
            var c = href[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Blogger labels are the categories in its scheme; feeds without that scheme label with every category.</summary>
    public static IReadOnlyList<string> SelectLabels(List<FeedCategory> categories)
    {
        if (categories.Count == 0)
        {
            return [];
        }

        var blogger = categories.Exists(c => c.Scheme == BloggerScheme);
        var labels = new List<string>(categories.Count);
        foreach (var category in categories)
        {
            if (!blogger || category.Scheme == BloggerScheme)
            {
                labels.Add(category.Label ?? category.Term);
            }
        }

        return labels;
    }

    public static FeedLink ReadAtomLink(XmlReader reader, Uri? baseUri, out string? rel)
    {
        var linkBase = ReadXmlBase(reader, baseUri);
        rel = TrimToNull(reader.GetAttribute("rel"));
        var type = reader.GetAttribute("type");
        var title = reader.GetAttribute("title");
        var href = reader.GetAttribute("href");
        if (href is null)
        {
            // Pre-1.0 drafts and some generators put the URL in the element's text.
            href = ReadText(reader);
        }
        else
        {
            reader.Skip();
        }

        return new FeedLink(Resolve(href, linkBase) ?? "", rel, type, title);
    }

    /// <summary>
    /// A Media RSS element (media:group, media:content, media:thumbnail, media:description, media:title,
    /// media:category): enclosures go to <paramref name="links"/>, categories to <paramref name="categories"/>,
    /// the first media:title to <paramref name="title"/>; returns the description as HTML when there is one.
    /// </summary>
    public static string? ReadMedia(XmlReader reader, Uri? baseUri, List<FeedLink> links, List<FeedCategory> categories, ref string? title)
    {
        switch (reader.LocalName)
        {
            case "content" or "thumbnail":
                var url = Resolve(reader.GetAttribute("url"), baseUri);
                if (url is not null)
                {
                    var rel = reader.LocalName == "content" ? "enclosure" : "thumbnail";
                    links.Add(new FeedLink(url, rel, reader.GetAttribute("type"), null));
                }

                return ReadMediaChildren(reader, baseUri, links, categories, ref title);
            case "group":
                return ReadMediaChildren(reader, baseUri, links, categories, ref title);
            case "description":
                var plain = reader.GetAttribute("type") != "html";
                var text = plain ? ReadText(reader) : ReadHtml(reader);
                return plain && text is not null ? WebUtility.HtmlEncode(text) : text;
            case "title":
                var html = reader.GetAttribute("type") == "html";
                var value = ReadText(reader);
                title ??= html && value is not null ? HtmlToText(value) : value;
                return null;
            case "category":
                // Media RSS §5.7: scheme defaults to http://search.yahoo.com/mrss/category_schema.
                var scheme = TrimToNull(reader.GetAttribute("scheme")) ?? "http://search.yahoo.com/mrss/category_schema";
                var label = TrimToNull(reader.GetAttribute("label"));
                var term = ReadText(reader);
                if (term is not null)
                {
                    categories.Add(new FeedCategory(term, scheme, label));
                }

                return null;
            default:
                reader.Skip();
                return null;
        }
    }

    private static string? ReadMediaChildren(XmlReader reader, Uri? baseUri, List<FeedLink> links, List<FeedCategory> categories, ref string? title)
    {
        string? description = null;
        if (reader.Depth > MaxNesting)
        {
            reader.Skip();
            return null;
        }

        if (Enter(reader, out var depth))
        {
            while (MoveToChild(reader, depth))
            {
                if (IsMedia(reader.NamespaceURI))
                {
                    description = KeepFirst(description, ReadMedia(reader, baseUri, links, categories, ref title));
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        return description;
    }

    /// <summary>Media RSS namespace, also as often written without its trailing slash.</summary>
    public static bool IsMedia(string ns) => ns is MediaNamespace or "http://search.yahoo.com/mrss";

    /// <summary>The first value wins; unlike <c>??=</c> the second is always evaluated, so its element is always consumed.</summary>
    public static string? KeepFirst(string? current, string? next) => current ?? next;

    public static DateTimeOffset? KeepFirst(DateTimeOffset? current, DateTimeOffset? next) => current ?? next;

    public static bool IsAlternate(string? rel) => rel is null or "alternate";

    private static bool IsHtmlType(string? type) => type is "html" or "text/html" or "application/xhtml+xml";

    public static string? TrimToNull(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var trimmed = text.AsSpan().Trim();
        if (trimmed.IsEmpty)
        {
            return null;
        }

        return trimmed.Length == text.Length ? text : trimmed.ToString();
    }

    [GeneratedRegex("<[^>]*>", RegexOptions.CultureInvariant)]
    private static partial Regex Tag();
}
