using System.Xml;

namespace NewsBot.Feeds;

/// <summary>Atom 1.0 (RFC 4287), with the Atom 0.3 element names tolerated.</summary>
internal static class AtomParser
{
    public static ParsedFeed Read(XmlReader reader, Uri? baseUri)
    {
        var feedBase = FeedXml.ReadXmlBase(reader, baseUri);
        // Elements in the root's namespace are Atom elements even when that namespace is an unknown draft one.
        var feedNamespace = reader.NamespaceURI;
        string? title = null;
        string? id = null;
        string? author = null;
        string? home = null;
        var links = new List<FeedLink>();
        var items = new List<FeedItem>();
        if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                if (!IsAtom(reader.NamespaceURI, feedNamespace))
                {
                    reader.Skip();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "title":
                        title = FeedXml.KeepFirst(title, FeedXml.ReadPlainText(reader));
                        break;
                    case "id":
                        id = FeedXml.KeepFirst(id, FeedXml.ReadText(reader));
                        break;
                    case "link":
                        var link = FeedXml.ReadAtomLink(reader, feedBase, out var rel);
                        links.Add(link);
                        if (home is null && FeedXml.IsAlternate(rel) && link.Href.Length > 0)
                        {
                            home = link.Href;
                        }

                        break;
                    case "author":
                        author = FeedXml.KeepFirst(author, ReadPersonName(reader));
                        break;
                    case "entry":
                        items.Add(ReadEntry(reader, feedBase, feedNamespace));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        var documentBase = FeedXml.ParseAbsoluteUri(links.Find(l => l.Rel == "self")?.Href) ?? FeedXml.ParseAbsoluteUri(home);
        if (documentBase is not null)
        {
            // RFC 3986 §5.1.3: with no xml:base and no retrieval URI from the caller, the feed's self link
            // (else its home page) is the best stand-in for the document's own address.
            home = FeedXml.Resolve(home, documentBase);
            for (var i = 0; i < items.Count; i++)
            {
                items[i] = ResolveLinks(items[i], documentBase);
            }
        }

        if (author is not null)
        {
            // RFC 4287 §4.2.1: an entry without an author inherits the feed's.
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].Author is null)
                {
                    items[i] = items[i] with { Author = author };
                }
            }
        }

        return new ParsedFeed(FeedType.Atom, title, home, id, links, items);
    }

    private static FeedItem ResolveLinks(FeedItem item, Uri documentBase)
    {
        if ((item.Url is null || FeedXml.IsAbsolute(item.Url)) && item.Links.All(l => FeedXml.IsAbsolute(l.Href)))
        {
            return item;
        }

        return item with
        {
            Url = FeedXml.Resolve(item.Url, documentBase),
            Links = item.Links.Select(l => l with { Href = FeedXml.Resolve(l.Href, documentBase) ?? l.Href }).ToList(),
        };
    }

    /// <summary>RFC 4287 §4.1.2: an Atom Entry Document is a single entry as the root element.</summary>
    public static ParsedFeed ReadEntryDocument(XmlReader reader, Uri? baseUri)
    {
        var entry = ReadEntry(reader, baseUri, reader.NamespaceURI);
        return new ParsedFeed(FeedType.Atom, null, null, null, [], [entry]);
    }

    private static FeedItem ReadEntry(XmlReader reader, Uri? parentBase, string feedNamespace)
    {
        var entryBase = FeedXml.ReadXmlBase(reader, parentBase);
        string? id = null;
        string? title = null;
        string? url = null;
        string? author = null;
        string? content = null;
        string? summary = null;
        string? mediaDescription = null;
        string? mediaTitle = null;
        // Atom 1.0 names win over the 0.3 ones; a repeated element's last value wins, as in feedparser.
        DateTimeOffset? published = null;
        DateTimeOffset? updated = null;
        DateTimeOffset? issued = null;
        DateTimeOffset? modified = null;
        var links = new List<FeedLink>();
        var categories = new List<FeedCategory>();
        if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                var ns = reader.NamespaceURI;
                if (FeedXml.IsMedia(ns))
                {
                    mediaDescription = FeedXml.KeepFirst(mediaDescription, FeedXml.ReadMedia(reader, entryBase, links, categories, ref mediaTitle));
                    continue;
                }

                if (!IsAtom(ns, feedNamespace))
                {
                    reader.Skip();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "id":
                        id = FeedXml.KeepFirst(id, FeedXml.ReadText(reader));
                        break;
                    case "title":
                        title = FeedXml.KeepFirst(title, FeedXml.ReadPlainText(reader));
                        break;
                    case "link":
                        var link = FeedXml.ReadAtomLink(reader, entryBase, out var rel);
                        links.Add(link);
                        if (url is null && FeedXml.IsAlternate(rel) && link.Href.Length > 0)
                        {
                            url = link.Href;
                        }

                        break;
                    case "author":
                        author = FeedXml.KeepFirst(author, ReadPersonName(reader));
                        break;
                    case "published":
                        published = FeedDates.Parse(FeedXml.ReadText(reader)) ?? published;
                        break;
                    case "issued" or "created":
                        issued = FeedXml.KeepFirst(issued, FeedDates.Parse(FeedXml.ReadText(reader)));
                        break;
                    case "updated":
                        updated = FeedDates.Parse(FeedXml.ReadText(reader)) ?? updated;
                        break;
                    case "modified":
                        modified = FeedDates.Parse(FeedXml.ReadText(reader)) ?? modified;
                        break;
                    case "category":
                        var term = FeedXml.TrimToNull(reader.GetAttribute("term"));
                        if (term is not null)
                        {
                            categories.Add(new FeedCategory(term, FeedXml.TrimToNull(reader.GetAttribute("scheme")), FeedXml.TrimToNull(reader.GetAttribute("label"))));
                        }

                        reader.Skip();
                        break;
                    case "content":
                        content = FeedXml.KeepFirst(content, FeedXml.ReadHtmlConstruct(reader));
                        break;
                    case "summary":
                        summary = FeedXml.KeepFirst(summary, FeedXml.ReadHtmlConstruct(reader));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        return new FeedItem
        {
            Id = id,
            Url = url,
            Title = title ?? mediaTitle,
            Author = author,
            Published = published ?? issued,
            Updated = updated ?? modified,
            Links = links,
            Categories = categories,
            ContentHtml = content,
            SummaryHtml = summary ?? mediaDescription,
            Labels = FeedXml.SelectLabels(categories),
        };
    }

    private static string? ReadPersonName(XmlReader reader)
    {
        string? name = null;
        string? email = null;
        if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                switch (reader.LocalName)
                {
                    case "name":
                        name = FeedXml.KeepFirst(name, FeedXml.ReadText(reader));
                        break;
                    case "email":
                        email = FeedXml.KeepFirst(email, FeedXml.ReadText(reader));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        return name ?? email;
    }

    private static bool IsAtom(string ns, string feedNamespace) =>
        ns is FeedXml.AtomNamespace or FeedXml.Atom03Namespace or "" || ns == feedNamespace;
}
