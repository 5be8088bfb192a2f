using System.Xml;

namespace NewsBot.Feeds;

/// <summary>RSS 0.9x and 2.0 (rss/channel/item) and RSS 1.0 (rdf:RDF with channel and item as siblings).</summary>
internal static class RssParser
{
    private const string Rss10Namespace = "http://purl.org/rss/1.0/";
    private const string Rss090Namespace = "http://my.netscape.com/rdf/simple/0.9/";
    private const string RdfNamespace = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    private const string ContentNamespace = "http://purl.org/rss/1.0/modules/content/";
    private const string DcNamespace = "http://purl.org/dc/elements/1.1/";
    private const string DcTermsNamespace = "http://purl.org/dc/terms/";
    private const string ItunesNamespace = "http://www.itunes.com/dtds/podcast-1.0.dtd";
    private const string UserlandNamespace = "http://backend.userland.com/rss2";
    private const string ItunesScheme = "http://www.itunes.com/";

    private sealed class Channel
    {
        public string? Title;
        public string? Link;
        public string? Id;
        public Uri? ItemBase;
        public bool HasXmlBase;
        public readonly List<FeedLink> Links = [];
        public readonly List<FeedItem> Items = [];
    }

    public static ParsedFeed Read(XmlReader reader, Uri? baseUri)
    {
        var channel = new Channel { ItemBase = FeedXml.ReadXmlBase(reader, baseUri) };
        channel.HasXmlBase = channel.ItemBase != baseUri;
        if (reader.LocalName == "channel")
        {
            ReadChannel(reader, channel);
        }
        else if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                if (!IsRss(reader.NamespaceURI))
                {
                    reader.Skip();
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "channel":
                        ReadChannel(reader, channel);
                        break;
                    case "item":
                        // RSS 1.0 §5.5 and RSS 0.90: items are siblings of the channel.
                        channel.Items.Add(ReadItem(reader, channel.ItemBase));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        return new ParsedFeed(FeedType.Rss, channel.Title, channel.Link, channel.Id, channel.Links, channel.Items);
    }

    private static void ReadChannel(XmlReader reader, Channel channel)
    {
        var channelBase = FeedXml.ReadXmlBase(reader, channel.ItemBase);
        if (channelBase != channel.ItemBase)
        {
            channel.HasXmlBase = true;
            channel.ItemBase = channelBase;
        }

        channel.Id ??= FeedXml.TrimToNull(reader.GetAttribute("about", RdfNamespace));
        if (!FeedXml.Enter(reader, out var depth))
        {
            return;
        }

        while (FeedXml.MoveToChild(reader, depth))
        {
            var ns = reader.NamespaceURI;
            var name = reader.LocalName;
            if (ns == FeedXml.AtomNamespace && name == "link")
            {
                channel.Links.Add(FeedXml.ReadAtomLink(reader, channelBase, out _));
            }
            else if (IsRss(ns) && name == "title" || ns == DcNamespace && name == "title")
            {
                channel.Title = FeedXml.KeepFirst(channel.Title, FeedXml.ReadText(reader));
            }
            else if (IsRss(ns) && name == "link")
            {
                var link = FeedXml.Resolve(FeedXml.ReadText(reader), channelBase);
                if (link is not null && channel.Link is null)
                {
                    channel.Link = link;
                    channel.Links.Insert(0, new FeedLink(link, "alternate", null, null));
                    if (!channel.HasXmlBase)
                    {
                        // Relative item links resolve against the channel's home page when no xml:base says otherwise.
                        channel.ItemBase = FeedXml.ParseAbsoluteUri(link) ?? channel.ItemBase;
                    }
                }
            }
            else if (IsRss(ns) && name == "item")
            {
                channel.Items.Add(ReadItem(reader, channel.ItemBase));
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static FeedItem ReadItem(XmlReader reader, Uri? parentBase)
    {
        var itemBase = FeedXml.ReadXmlBase(reader, parentBase);
        var about = FeedXml.TrimToNull(reader.GetAttribute("about", RdfNamespace));
        string? title = null;
        string? link = null;
        string? guid = null;
        var guidIsPermaLink = true;
        string? author = null;
        string? content = null;
        string? summary = null;
        string? mediaDescription = null;
        string? mediaTitle = null;
        string? atomAlternate = null;
        DateTimeOffset? published = null;
        DateTimeOffset? updated = null;
        var links = new List<FeedLink>();
        var categories = new List<FeedCategory>();
        if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                var ns = reader.NamespaceURI;
                var name = reader.LocalName;
                if (IsRss(ns))
                {
                    switch (name)
                    {
                        case "title":
                            title = FeedXml.KeepFirst(title, FeedXml.ReadText(reader));
                            break;
                        case "link":
                            link = FeedXml.KeepFirst(link, FeedXml.Resolve(FeedXml.ReadText(reader), itemBase));
                            break;
                        case "guid":
                            // RSS 2.0: isPermaLink defaults to true.
                            guidIsPermaLink = !string.Equals(reader.GetAttribute("isPermaLink")?.Trim(), "false", StringComparison.OrdinalIgnoreCase);
                            guid = FeedXml.KeepFirst(guid, FeedXml.ReadText(reader));
                            break;
                        case "description":
                            summary = FeedXml.KeepFirst(summary, FeedXml.ReadHtml(reader));
                            break;
                        case "author":
                            author = FeedXml.KeepFirst(author, FeedXml.ReadText(reader));
                            break;
                        case "pubDate":
                            published = FeedXml.KeepFirst(published, FeedDates.Parse(FeedXml.ReadText(reader)));
                            break;
                        case "category":
                            var domain = FeedXml.TrimToNull(reader.GetAttribute("domain"));
                            var term = FeedXml.ReadText(reader);
                            if (term is not null)
                            {
                                categories.Add(new FeedCategory(term, domain, null));
                            }

                            break;
                        case "enclosure":
                            var url = FeedXml.Resolve(reader.GetAttribute("url"), itemBase);
                            if (url is not null)
                            {
                                links.Add(new FeedLink(url, "enclosure", reader.GetAttribute("type"), null));
                            }

                            reader.Skip();
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }
                else if (ns == ContentNamespace && name == "encoded")
                {
                    content = FeedXml.KeepFirst(content, FeedXml.ReadHtml(reader));
                }
                else if (ns == DcNamespace || ns == DcTermsNamespace)
                {
                    switch (name)
                    {
                        case "creator" or "author":
                            author = FeedXml.KeepFirst(author, FeedXml.ReadText(reader));
                            break;
                        case "date" or "issued" or "created":
                            published = FeedXml.KeepFirst(published, FeedDates.Parse(FeedXml.ReadText(reader)));
                            break;
                        case "modified":
                            updated = FeedXml.KeepFirst(updated, FeedDates.Parse(FeedXml.ReadText(reader)));
                            break;
                        case "subject":
                            var subject = FeedXml.ReadText(reader);
                            if (subject is not null)
                            {
                                categories.Add(new FeedCategory(subject, null, null));
                            }

                            break;
                        case "title":
                            title = FeedXml.KeepFirst(title, FeedXml.ReadText(reader));
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }
                else if (ns == FeedXml.AtomNamespace)
                {
                    switch (name)
                    {
                        case "link":
                            var atomLink = FeedXml.ReadAtomLink(reader, itemBase, out var rel);
                            links.Add(atomLink);
                            if (atomAlternate is null && FeedXml.IsAlternate(rel) && atomLink.Href.Length > 0)
                            {
                                atomAlternate = atomLink.Href;
                            }

                            break;
                        case "updated":
                            updated = FeedXml.KeepFirst(updated, FeedDates.Parse(FeedXml.ReadText(reader)));
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }
                else if (FeedXml.IsMedia(ns))
                {
                    mediaDescription = FeedXml.KeepFirst(mediaDescription, FeedXml.ReadMedia(reader, itemBase, links, categories, ref mediaTitle));
                }
                else if (IsItunes(ns) && name == "author")
                {
                    author = FeedXml.KeepFirst(author, FeedXml.ReadText(reader));
                }
                else if (IsItunes(ns) && name == "category")
                {
                    ReadItunesCategory(reader, categories);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        // The item's page: its link, else a guid that is a permalink (RSS 2.0 guid), else an Atom alternate link.
        var permalink = guidIsPermaLink && guid is not null && guid.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? guid : null;
        var itemUrl = link ?? permalink ?? atomAlternate;
        if (link is not null)
        {
            links.Insert(0, new FeedLink(link, "alternate", null, null));
        }

        return new FeedItem
        {
            Id = guid ?? about,
            Url = itemUrl,
            Title = title ?? mediaTitle,
            Author = author,
            Published = published,
            Updated = updated,
            Links = links,
            Categories = categories,
            ContentHtml = content,
            SummaryHtml = summary ?? mediaDescription,
            Labels = FeedXml.SelectLabels(categories),
        };
    }

    private static bool IsRss(string ns) => ns is "" or Rss10Namespace or Rss090Namespace or UserlandNamespace;

    // Apple's documentation spells the namespace with "DTDs"; iTunes matches it case-insensitively.
    private static bool IsItunes(string ns) => ns.Equals(ItunesNamespace, StringComparison.OrdinalIgnoreCase);

    private static void ReadItunesCategory(XmlReader reader, List<FeedCategory> categories)
    {
        var text = FeedXml.TrimToNull(reader.GetAttribute("text"));
        if (text is not null)
        {
            categories.Add(new FeedCategory(text, ItunesScheme, null));
        }

        if (reader.Depth > FeedXml.MaxNesting)
        {
            reader.Skip();
            return;
        }

        if (FeedXml.Enter(reader, out var depth))
        {
            while (FeedXml.MoveToChild(reader, depth))
            {
                if (IsItunes(reader.NamespaceURI) && reader.LocalName == "category")
                {
                    ReadItunesCategory(reader, categories);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
    }
}
