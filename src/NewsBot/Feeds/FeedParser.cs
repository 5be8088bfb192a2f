using System.Buffers;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace NewsBot.Feeds;

/// <summary>Reads RSS 0.9x/1.0/2.0, Atom 1.0 (0.3 tolerated) and JSON Feed 1.x documents.</summary>
public static partial class FeedParser
{
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        // DTDs are never processed: no external fetches (XXE) and no entity expansion (billion laughs).
        DtdProcessing = DtdProcessing.Ignore,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        // Feeds in the wild carry control characters; XML 1.0 §2.2 forbids them, but they are harmless here.
        CheckCharacters = false,
        CloseInput = false,
    };

    static FeedParser()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
    }

    /// <summary>
    /// Parses a feed. <paramref name="contentType"/> is the HTTP Content-Type (its charset wins over the XML
    /// declaration, RFC 7303 §3); <paramref name="baseUri"/> resolves relative links when the feed gives no base.
    /// </summary>
    /// <exception cref="FeedFormatException">The data is not a feed; the message says what and where.</exception>
    public static ParsedFeed Parse(ReadOnlySpan<byte> data, string? contentType = null, Uri? baseUri = null)
    {
        var encoding = DetectEncoding(data, contentType, out var bomLength);
        var body = data[bomLength..];
        if (IsJson(body, encoding))
        {
            return JsonFeedParser.Parse(body, encoding, baseUri);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(body.Length, 1));
        try
        {
            body.CopyTo(buffer);
            using var stream = new MemoryStream(buffer, 0, body.Length, writable: false);
            using var text = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 16384);
            return ParseXml(text, baseUri);
        }
        catch (XmlException first)
        {
            return ParseRepaired(encoding.GetString(body), baseUri, first);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ParsedFeed ParseXml(TextReader text, Uri? baseUri)
    {
        // Whitespace before the XML declaration is not well-formed (XML 1.0 §2.8) but common.
        while (text.Peek() is ' ' or '\t' or '\r' or '\n' or '\uFEFF')
        {
            text.Read();
        }

        if (text.Peek() < 0)
        {
            throw new FeedFormatException("Empty document: no feed element (line 1, position 1)");
        }

        using var reader = XmlReader.Create(text, ReaderSettings);
        reader.MoveToContent();
        if (reader.NodeType != XmlNodeType.Element)
        {
            throw new FeedFormatException($"No root element ({DescribePosition(reader)})");
        }

        var feed = (reader.LocalName, reader.NamespaceURI) switch
        {
            ("feed", _) => AtomParser.Read(reader, baseUri),
            ("entry", FeedXml.AtomNamespace) => AtomParser.ReadEntryDocument(reader, baseUri),
            ("rss", _) or ("channel", _) or ("RDF", _) => RssParser.Read(reader, baseUri),
            _ => throw new FeedFormatException($"Root element <{reader.Name}> is not rss, rdf:RDF or feed ({DescribePosition(reader)})"),
        };

        // Read to the end so that a truncated or broken document is reported, not half-read.
        while (reader.Read())
        {
        }

        return feed;
    }

    // Undeclared HTML entities (&nbsp;) and bare ampersands are the most common well-formedness errors in
    // feeds: rewrite them as numeric references / &amp; and read again once.
    private static ParsedFeed ParseRepaired(string text, Uri? baseUri, XmlException first)
    {
        // Entities declared in the internal DTD subset are never expanded (XXE, billion laughs): such a document
        // is refused rather than repaired into something that reads differently.
        var doctype = text.IndexOf("<!DOCTYPE", StringComparison.Ordinal);
        if (doctype >= 0)
        {
            var subsetEnd = text.IndexOf("]>", doctype, StringComparison.Ordinal);
            var subset = text.AsSpan(doctype, (subsetEnd < 0 ? text.Length : subsetEnd) - doctype);
            var declaration = subset.IndexOf("<!ENTITY", StringComparison.Ordinal);
            if (declaration >= 0)
            {
                var line = text.AsSpan(0, doctype + declaration).Count('\n') + 1;
                throw new FeedFormatException($"DTD entity declarations are not allowed (XXE / entity expansion) at line {line}", first);
            }
        }

        var repaired = Ampersand().Replace(text, RepairAmpersand);
        var declarationStart = repaired.IndexOf("<?xml", StringComparison.Ordinal);
        if (declarationStart > 0)
        {
            // An XML declaration after a comment (XML 1.0 §2.8 wants it first): drop it, the text is decoded already.
            var end = repaired.IndexOf("?>", declarationStart, StringComparison.Ordinal);
            if (end > 0)
            {
                repaired = repaired.Remove(declarationStart, end + 2 - declarationStart);
            }
        }

        if (TruncatedEndTag().IsMatch(repaired))
        {
            // The document stops inside the root's end tag ("</rss"): everything the feed says has been said.
            repaired = repaired.TrimEnd() + ">";
        }

        if (repaired == text)
        {
            throw new FeedFormatException($"Not well-formed XML: {first.Message}", first);
        }

        try
        {
            using var reader = new StringReader(repaired);
            return ParseXml(reader, baseUri);
        }
        catch (XmlException second)
        {
            throw new FeedFormatException($"Not well-formed XML: {second.Message}", second);
        }
    }

    private static string RepairAmpersand(Match match)
    {
        if (match.Groups[1].Success)
        {
            return match.Value;
        }

        var name = match.Groups[2].Value.TrimEnd(';');
        if (name.Length == 0)
        {
            return "&amp;";
        }

        if (name is "amp" or "lt" or "gt" or "quot" or "apos" || name[0] == '#')
        {
            // XML 1.0 §4.1 only allows a lowercase x in hexadecimal references.
            return name.StartsWith("#X", StringComparison.Ordinal) ? "&#x" + name[2..] + ";" : match.Value;
        }

        // HTML 4 named entities (what WebUtility knows) become numeric references; unknown ones become text.
        var decoded = WebUtility.HtmlDecode(match.Value);
        if (decoded == match.Value)
        {
            return "&amp;" + name + ";";
        }

        return string.Concat(decoded.EnumerateRunes().Select(r => $"&#{r.Value};"));
    }

    internal static string DescribePosition(XmlReader reader) =>
        reader is IXmlLineInfo info && info.HasLineInfo() ? $"line {info.LineNumber}, position {info.LinePosition}" : "unknown position";

    private static bool IsJson(ReadOnlySpan<byte> body, Encoding encoding)
    {
        if (encoding.CodePage is not (65001 or 1252 or 28591 or 20127))
        {
            return false;
        }

        var start = body.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && body[start] == (byte)'{';
    }

    private static Encoding DetectEncoding(ReadOnlySpan<byte> data, string? contentType, out int bomLength)
    {
        // XML 1.0 Appendix F.1: byte order marks first, then the shape of "<?xml" in each encoding.
        bomLength = 0;
        if (data.StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }))
        {
            bomLength = 3;
            return new UTF8Encoding(false);
        }

        if (data.StartsWith(new byte[] { 0xFF, 0xFE, 0, 0 }))
        {
            bomLength = 4;
            return new UTF32Encoding(bigEndian: false, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { 0, 0, 0xFE, 0xFF }))
        {
            bomLength = 4;
            return new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { 0xFF, 0xFE }))
        {
            bomLength = 2;
            return new UnicodeEncoding(bigEndian: false, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { 0xFE, 0xFF }))
        {
            bomLength = 2;
            return new UnicodeEncoding(bigEndian: true, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { 0, 0, 0, (byte)'<' }))
        {
            return new UTF32Encoding(bigEndian: true, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { (byte)'<', 0, 0, 0 }))
        {
            return new UTF32Encoding(bigEndian: false, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { 0, (byte)'<', 0 }))
        {
            return new UnicodeEncoding(bigEndian: true, byteOrderMark: false);
        }

        if (data.StartsWith(new byte[] { (byte)'<', 0 }))
        {
            return new UnicodeEncoding(bigEndian: false, byteOrderMark: false);
        }

        // RFC 7303 §3: the charset parameter of the HTTP Content-Type wins over the XML declaration.
        var encoding = RejectWideEncoding(FindEncoding(ReadCharset(contentType)))
            ?? RejectWideEncoding(FindEncoding(ReadDeclaredEncoding(data)))
            ?? new UTF8Encoding(false);
        if (encoding.CodePage == 65001 && !System.Text.Unicode.Utf8.IsValid(data))
        {
            // Declared (or assumed) UTF-8 that is not: the usual culprit is Windows-1252 text.
            return Encoding.GetEncoding(1252);
        }

        return encoding;
    }

    // UTF-16/32 named without a byte pattern to match is a mislabel: the bytes are ASCII-compatible.
    private static Encoding? RejectWideEncoding(Encoding? encoding) =>
        encoding is null || encoding.CodePage is 1200 or 1201 or 12000 or 12001 ? null : encoding;

    private static Encoding? FindEncoding(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        try
        {
            var encoding = Encoding.GetEncoding(name.Trim());
            // WHATWG Encoding: ISO-8859-1 and US-ASCII labels mean Windows-1252, which is a superset in practice.
            return encoding.CodePage is 28591 or 20127 ? Encoding.GetEncoding(1252) : encoding;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    private static string? ReadCharset(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        foreach (var parameter in contentType.Split(';').Skip(1))
        {
            var equals = parameter.IndexOf('=');
            if (equals > 0 && parameter[..equals].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase))
            {
                return parameter[(equals + 1)..].Trim().Trim('"', '\'');
            }
        }

        return null;
    }

    private static string? ReadDeclaredEncoding(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(data.Length, 1024)];
        var start = head.IndexOf("<?xml"u8);
        if (start < 0)
        {
            return null;
        }

        var end = head[start..].IndexOf("?>"u8);
        if (end < 0)
        {
            return null;
        }

        var match = DeclaredEncoding().Match(Encoding.ASCII.GetString(head.Slice(start, end)));
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"</[A-Za-z][A-Za-z0-9:]*\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex TruncatedEndTag();

    // CDATA sections and comments come first so that ampersands inside them are left alone (XML 1.0 §2.7).
    [GeneratedRegex(@"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};|)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex Ampersand();

    [GeneratedRegex(@"encoding\s*=\s*[""']([A-Za-z0-9._:\-]+)[""']", RegexOptions.CultureInvariant)]
    private static partial Regex DeclaredEncoding();
}
