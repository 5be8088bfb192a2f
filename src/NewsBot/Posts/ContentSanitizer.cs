using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace NewsBot.Posts;

/// <summary>
/// Turns the HTML of a feed entry into markup that is safe to show in the web UI, in email and in Telegram, and
/// derives its plain text, summary and content hash. The allow-lists follow feedparser's <c>HTMLSanitizer</c>
/// (BSD-2-Clause) so that its sanitize test corpus applies; the deliberate departures are listed next to each set.
/// </summary>
public static class ContentSanitizer
{
    /// <summary>Longer input is cut here: no blog post is this long, and parsing cost grows with size.</summary>
    public const int MaxInputChars = 512 * 1024;

    /// <summary>Below this nesting depth only text is kept (see <see cref="NestingLimiter"/>).</summary>
    public const int MaxNestingDepth = 256;

    // feedparser's acceptable_elements, minus "form" (unwrapped: a form in a newsletter can post credentials to
    // anyone) and "noscript" (unwrapped: its content is re-parsed as raw text by a scripting browser, the
    // classic mutation-XSS path), plus a few harmless text-level elements it predates.
    private static readonly HashSet<string> AllowedElements = new(
    [
        "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "bdi", "bdo", "big",
        "blockquote", "br", "button", "canvas", "caption", "center", "cite", "code", "col", "colgroup", "command",
        "datagrid", "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em",
        "event-source", "fieldset", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "i", "img", "input", "ins", "kbd", "keygen", "label", "legend", "li", "m", "main", "map",
        "mark", "menu", "meter", "multicol", "nav", "nextid", "ol", "optgroup", "option", "output", "p", "pre",
        "progress", "q", "rp", "rt", "ruby", "s", "samp", "section", "select", "small", "sound", "source", "spacer",
        "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "textarea", "tfoot", "th",
        "thead", "time", "tr", "tt", "u", "ul", "var", "video", "wbr",
    ], StringComparer.Ordinal);

    // Removed together with everything inside. feedparser drops the content of script, style and applet; the
    // others hold content no reader sees (template is inert, a title in a body is a parse error) or, for svg, a
    // second markup language with its own script and style.
    private static readonly HashSet<string> DroppedElements = new(
        ["applet", "frame", "frameset", "head", "script", "style", "svg", "template", "title"], StringComparer.Ordinal);

    // Removed, but their raw-text content (HTML §13.2.5.3) is parsed as markup and kept: it is the fallback for
    // readers without frames or plugins, which mail and Telegram readers are, and an XHTML-style <iframe/> in an
    // HTML post would otherwise turn the whole rest of the post into iframe content.
    private static readonly HashSet<string> FallbackElements = new(
        ["iframe", "noembed", "noframes"], StringComparer.Ordinal);

    // Each re-parse of fallback content handles a shorter string, but <iframe><iframe>... would still cost
    // quadratic time; real posts never nest fallbacks.
    private const int MaxFallbackDepth = 2;

    // feedparser's acceptable_attributes minus "ping" (a click then POSTs to every listed URL: tracking only).
    // Event handlers (on*), srcset, formaction and data-* are absent, so they are dropped.
    private static readonly HashSet<string> AllowedAttributes = new(
    [
        "abbr", "accept", "accept-charset", "accesskey", "action", "align", "alt", "autocomplete", "autofocus",
        "axis", "background", "balance", "bgcolor", "bgproperties", "border", "bordercolor", "bordercolordark",
        "bordercolorlight", "bottompadding", "cellpadding", "cellspacing", "ch", "challenge", "char", "charoff",
        "charset", "checked", "choff", "cite", "class", "clear", "color", "cols", "colspan", "compact",
        "contenteditable", "controls", "coords", "data", "datafld", "datapagesize", "datasrc", "datetime", "default",
        "delay", "dir", "disabled", "draggable", "dynsrc", "enctype", "end", "face", "for", "form", "frame",
        "galleryimg", "gutter", "headers", "height", "hidden", "hidefocus", "high", "href", "hreflang", "hspace",
        "icon", "id", "inputmode", "ismap", "keytype", "label", "lang", "leftspacing", "list", "longdesc", "loop",
        "loopcount", "loopend", "loopstart", "low", "lowsrc", "max", "maxlength", "media", "method", "min",
        "multiple", "name", "nohref", "noshade", "nowrap", "open", "optimum", "pattern", "point-size", "poster",
        "pqg", "preload", "prompt", "radiogroup", "readonly", "rel", "repeat-max", "repeat-min", "replace",
        "required", "rev", "rightspacing", "rows", "rowspan", "rules", "scope", "selected", "shape", "size", "span",
        "src", "start", "step", "style", "summary", "suppress", "tabindex", "target", "template", "title",
        "toppadding", "type", "unselectable", "urn", "usemap", "valign", "value", "variable", "volume", "vrml",
        "vspace", "width", "wrap", "xml:lang",
    ], StringComparer.Ordinal);

    // Attributes a browser fetches or navigates to. usemap is not one: it is a hash-name reference (HTML "Image maps").
    private static readonly HashSet<string> UrlAttributes = new(
    [
        "action", "background", "cite", "data", "datasrc", "dynsrc", "href", "longdesc", "lowsrc", "poster", "src",
        "vrml",
    ], StringComparer.Ordinal);

    // feedparser allows ~40 schemes; these are the ones a news post links to. file: would open local files from a
    // mail client, and javascript:/vbscript:/data: run code or spoof pages.
    private static readonly HashSet<string> AllowedSchemes = new(
    [
        "feed", "ftp", "geo", "gopher", "http", "https", "irc", "ircs", "magnet", "mailto", "news", "nntp", "sip",
        "sips", "sms", "tel", "xmpp",
    ], StringComparer.OrdinalIgnoreCase);

    // Raster images cannot carry script, so small inline pictures survive in <img src>; SVG and every other
    // data: URL (phishing pages in href, scripts in object data) do not.
    private static readonly string[] AllowedDataImagePrefixes =
        ["data:image/png;", "data:image/gif;", "data:image/jpeg;", "data:image/jpg;", "data:image/webp;", "data:image/avif;"];

    // WHATWG HTML §13.1.2: elements that have no end tag.
    private static readonly HashSet<string> VoidElements = new(
    [
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link",
        "meta", "param", "source", "track", "wbr",
    ], StringComparer.Ordinal);

    // Elements that start a new line in plain text.
    private static readonly HashSet<string> BlockElements = new(
    [
        "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details", "dialog", "dir",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tr", "ul",
    ], StringComparer.Ordinal);

    private static readonly SearchValues<char> TextSpecials = SearchValues.Create("&<>\u00A0");
    private static readonly SearchValues<char> AttributeSpecials = SearchValues.Create("&<>\"");
    private static readonly SearchValues<char> MarkupStarts = SearchValues.Create("<&\r\0");

    // AngleSharp does not document HtmlParser as thread-safe, so each thread keeps its own; building one costs far
    // more than a short parse.
    [ThreadStatic]
    private static HtmlParser? s_parser;

    [ThreadStatic]
    private static IElement? s_bodyContext;

    /// <summary>
    /// Allow-list sanitizing: keeps known harmless elements and attributes, unwraps unknown elements (keeping their
    /// text), removes script-like elements with their content, comments, event handlers, unsafe URL schemes and
    /// CSS outside a safe subset. Relative URLs are resolved against <paramref name="baseUri"/> when given.
    /// The result is an HTML fragment that parses back to the same tree.
    /// </summary>
    /// <remarks>
    /// Links keep their own rel; only a link that sets a target gets rel="noopener" added (HTML link type "noopener",
    /// "Link types"): browsers imply it for _blank, but not for named targets or in older mail clients, where the
    /// opened page gets a handle on ours. There is no noreferrer: publishers rely on seeing where their readers
    /// come from, and the referrer leaks nothing of ours.
    /// </remarks>
    public static string Sanitize(string? html, Uri? baseUri)
    {
        RequireAbsolute(baseUri);
        var output = new StringBuilder(html?.Length ?? 0);
        Walk(html, baseUri, output, null);
        return TrimAsciiWhitespace(output);
    }

    /// <summary>
    /// <see cref="Sanitize"/> and <see cref="Summarize"/> of the same entry from one parse and one walk: what the
    /// refresh flow stores for every post.
    /// </summary>
    public static SanitizedContent SanitizeWithSummary(string? html, Uri? baseUri, int maxSummaryChars = 280)
    {
        RequireAbsolute(baseUri);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSummaryChars, 2);
        var output = new StringBuilder(html?.Length ?? 0);
        var text = new PlainTextBuilder(' ', maxSummaryChars + 1);
        Walk(html, baseUri, output, text);
        return new SanitizedContent(TrimAsciiWhitespace(output), CutAtWord(text.ToString(), maxSummaryChars));
    }

    /// <summary>
    /// The text of an HTML fragment: entities decoded, script and style content dropped, whitespace runs collapsed
    /// to one space and block boundaries (paragraphs, list items, line breaks...) turned into single line breaks.
    /// </summary>
    public static string ToPlainText(string? html)
    {
        var text = new PlainTextBuilder('\n', int.MaxValue);
        Walk(html, null, null, text);
        return text.ToString();
    }

    /// <summary>
    /// The plain text on one line, cut at a word boundary to at most <paramref name="maxChars"/> characters
    /// including the trailing ellipsis.
    /// </summary>
    public static string Summarize(string? html, int maxChars = 280)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 2);
        var text = new PlainTextBuilder(' ', maxChars + 1);
        Walk(html, null, null, text);
        return CutAtWord(text.ToString(), maxChars);
    }

    /// <summary>
    /// A lower-case hex SHA-256 over the title and the stored (sanitized) HTML, both trimmed with whitespace runs
    /// collapsed, so that re-serialising a feed does not look like an edit while any visible change does.
    /// </summary>
    public static string HashContent(string title, string html)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(html);
        var normalised = new StringBuilder(title.Length + html.Length + 16);
        AppendCollapsedWhitespace(normalised, title);
        // The title's length in front keeps "ab" + "c" apart from "a" + "bc".
        normalised.Insert(0, normalised.Length.ToString(CultureInfo.InvariantCulture) + ":").Append('\n');
        AppendCollapsedWhitespace(normalised, html);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised.ToString())));
    }

    private static INodeList ParseFragment(string html)
    {
        if (s_parser is null || s_bodyContext is null)
        {
            s_parser = new HtmlParser(new HtmlParserOptions
            {
                SkipComments = true,
                SkipProcessingInstructions = true,
                DisableElementPositionTracking = true,
            });
            s_bodyContext = s_parser.ParseDocument("").Body!;
        }

        // HTML §13.4: fragment parsing in a <body> context ignores <html>, <head>, <body> and <frameset> tags.
        return s_parser.ParseFragment(NestingLimiter.LimitNesting(html, MaxNestingDepth), s_bodyContext);
    }

    private static string CutToLimit(string html)
    {
        if (html.Length <= MaxInputChars)
        {
            return html;
        }

        // Cut before a tag that would be left open: at end of input "</" or "<a href=" would become text.
        var cut = MaxInputChars;
        var lastOpen = html.LastIndexOf('<', cut - 1);
        if (lastOpen > html.LastIndexOf('>', cut - 1))
        {
            cut = lastOpen;
        }
        else if (char.IsHighSurrogate(html[cut - 1]))
        {
            cut--;
        }

        return html[..cut];
    }

    private static void RequireAbsolute(Uri? baseUri)
    {
        if (baseUri is { IsAbsoluteUri: false })
        {
            throw new ArgumentException($"The base URI must be absolute, got '{baseUri}'.", nameof(baseUri));
        }
    }

    /// <summary>Writes the sanitized markup to <paramref name="output"/> and the text to <paramref name="text"/>, either optional.</summary>
    private static void Walk(string? html, Uri? baseUri, StringBuilder? output, PlainTextBuilder? text)
    {
        if (string.IsNullOrWhiteSpace(html))
        {
            return;
        }

        html = CutToLimit(html);
        if (html.AsSpan().IndexOfAny(MarkupStarts) < 0)
        {
            // Nothing for a parser to do: no tag, no character reference, no CR or NUL to normalise.
            if (output is not null)
            {
                AppendEscapedText(output, html);
            }

            text?.AppendText(html);
            return;
        }

        foreach (var node in ParseFragment(html))
        {
            Visit(node, baseUri, output, text, MaxFallbackDepth);
        }
    }

    // Recursion depth is bounded by the parser's HtmlParserOptions.MaximumDepth (512 by default), beyond which
    // AngleSharp attaches elements as siblings.
    private static void Visit(INode node, Uri? baseUri, StringBuilder? output, PlainTextBuilder? text, int fallbackDepth)
    {
        if (node is IText textNode)
        {
            if (output is not null)
            {
                AppendEscapedText(output, textNode.Data);
            }

            text?.AppendText(textNode.Data);
            return;
        }

        if (node is not IElement element)
        {
            return;
        }

        var name = element.LocalName;
        if (DroppedElements.Contains(name))
        {
            return;
        }

        if (FallbackElements.Contains(name))
        {
            var fallbackHtml = element.TextContent;
            if (fallbackDepth > 0 && !string.IsNullOrWhiteSpace(fallbackHtml))
            {
                foreach (var fallback in ParseFragment(fallbackHtml))
                {
                    Visit(fallback, baseUri, output, text, fallbackDepth - 1);
                }
            }

            return;
        }

        var block = text is not null && BlockElements.Contains(name);
        if (block)
        {
            text!.BreakLine();
        }
        else if (name is "td" or "th")
        {
            text?.BreakWord();
        }

        var keep = output is not null && element.NamespaceUri == NamespaceNames.HtmlUri && AllowedElements.Contains(name);
        if (keep)
        {
            AppendStartTag(output!, element, name, baseUri);
            if (VoidElements.Contains(name))
            {
                return;
            }

            // §13.1.2.5: a newline right after <pre> or <textarea> is dropped by the parser, so one that belongs to
            // the content needs another in front of it.
            if (name is "pre" or "textarea" && element.FirstChild is IText { Data: ['\n', ..] })
            {
                output!.Append('\n');
            }
        }

        for (var child = element.FirstChild; child is not null; child = child.NextSibling)
        {
            Visit(child, baseUri, output, text, fallbackDepth);
        }

        if (keep)
        {
            output!.Append("</").Append(name).Append('>');
        }

        if (block)
        {
            text!.BreakLine();
        }
    }

    private static string CutAtWord(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        var cut = maxChars - 1;
        var space = text.LastIndexOf(' ', cut);
        if (space > maxChars / 2)
        {
            cut = space;
        }
        else if (char.IsLowSurrogate(text[cut]))
        {
            // Text without spaces (CJK, a long URL) is cut mid-word, but never inside a surrogate pair.
            cut--;
        }

        return string.Concat(text.AsSpan(0, cut).TrimEnd(" ,;:-–—"), "…");
    }

    private static void AppendStartTag(StringBuilder output, IElement element, string name, Uri? baseUri)
    {
        output.Append('<').Append(name);
        var needsNoopener = name is "a" or "area" && !string.IsNullOrWhiteSpace(element.GetAttribute("target"));
        foreach (var attribute in element.Attributes)
        {
            var attributeName = attribute.Name;
            if (!AllowedAttributes.Contains(attributeName))
            {
                continue;
            }

            string? value = attribute.Value;
            if (attributeName == "style")
            {
                value = StyleFilter.FilterStyle(value);
                if (value.Length == 0)
                {
                    continue;
                }
            }
            else if (attributeName == "rel" && needsNoopener)
            {
                value = AddNoopener(value);
                needsNoopener = false;
            }
            else if (UrlAttributes.Contains(attributeName))
            {
                value = CleanUrl(value, baseUri, allowDataImage: name == "img" && attributeName == "src");
                if (value is null)
                {
                    continue;
                }
            }

            output.Append(' ').Append(attributeName).Append("=\"");
            AppendEscapedAttribute(output, value);
            output.Append('"');
        }

        if (needsNoopener)
        {
            output.Append(" rel=\"noopener\"");
        }

        output.Append('>');
    }

    private static string AddNoopener(string rel)
    {
        foreach (var token in rel.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.Equals("noopener", StringComparison.OrdinalIgnoreCase)
                || token.Equals("noreferrer", StringComparison.OrdinalIgnoreCase))
            {
                return rel;
            }
        }

        return rel.Trim().Length == 0 ? "noopener" : rel.Trim() + " noopener";
    }

    /// <summary>The URL to keep (absolute when a base is known), or null when its scheme is not allowed.</summary>
    private static string? CleanUrl(string value, Uri? baseUri, bool allowDataImage)
    {
        // WHATWG URL §4.4 (basic URL parser): leading and trailing C0 controls and spaces are stripped and tabs and
        // newlines removed anywhere, so "jav&#x09;ascript:" is javascript: to a browser and must be to us.
        var url = RemoveTabsAndNewlines(TrimControlsAndSpaces(value));
        if (url.Length == 0)
        {
            return url;
        }

        var scheme = ReadScheme(url);
        if (scheme is null)
        {
            return baseUri is not null && Uri.TryCreate(baseUri, url, out var absolute) ? absolute.AbsoluteUri : url;
        }

        if (AllowedSchemes.Contains(scheme))
        {
            return url;
        }

        if (allowDataImage && scheme.Equals("data", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var prefix in AllowedDataImagePrefixes)
            {
                if (url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    return url;
                }
            }
        }

        return null;
    }

    private static string TrimControlsAndSpaces(string url)
    {
        var start = 0;
        var end = url.Length;
        while (start < end && url[start] <= ' ')
        {
            start++;
        }

        while (end > start && url[end - 1] <= ' ')
        {
            end--;
        }

        return url[start..end];
    }

    private static string RemoveTabsAndNewlines(string url)
    {
        if (url.AsSpan().IndexOfAny('\t', '\n', '\r') < 0)
        {
            return url;
        }

        var builder = new StringBuilder(url.Length);
        foreach (var c in url)
        {
            if (c is not ('\t' or '\n' or '\r'))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>WHATWG URL §4.4 scheme state: an ASCII letter, then letters, digits, "+", "-" or "." up to ":".</summary>
    private static string? ReadScheme(string url)
    {
        if (!char.IsAsciiLetter(url[0]))
        {
            return null;
        }

        for (var i = 1; i < url.Length; i++)
        {
            var c = url[i];
            if (c == ':')
            {
                return url[..i];
            }

            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return null;
            }
        }

        return null;
    }

    private static void AppendEscapedText(StringBuilder output, string text)
    {
        var rest = text.AsSpan();
        for (var index = rest.IndexOfAny(TextSpecials); index >= 0; index = rest.IndexOfAny(TextSpecials))
        {
            output.Append(rest[..index]).Append(rest[index] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => "&nbsp;",
            });
            rest = rest[(index + 1)..];
        }

        output.Append(rest);
    }

    // "<" and ">" are escaped too although HTML §13.3 does not require it, so no attribute value can look like a
    // tag to a consumer that re-parses it as raw text (the noscript/mXSS family).
    private static void AppendEscapedAttribute(StringBuilder output, string value)
    {
        var rest = value.AsSpan();
        for (var index = rest.IndexOfAny(AttributeSpecials); index >= 0; index = rest.IndexOfAny(AttributeSpecials))
        {
            output.Append(rest[..index]).Append(rest[index] switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => "&quot;",
            });
            rest = rest[(index + 1)..];
        }

        output.Append(rest);
    }

    private static void AppendCollapsedWhitespace(StringBuilder output, string text)
    {
        var pendingSpace = false;
        var start = output.Length;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = output.Length > start;
                continue;
            }

            if (pendingSpace)
            {
                output.Append(' ');
                pendingSpace = false;
            }

            output.Append(c);
        }
    }

    private static string TrimAsciiWhitespace(StringBuilder output)
    {
        var start = 0;
        var end = output.Length;
        while (start < end && IsAsciiWhitespace(output[start]))
        {
            start++;
        }

        while (end > start && IsAsciiWhitespace(output[end - 1]))
        {
            end--;
        }

        return output.ToString(start, end - start);
    }

    // Infra "ASCII whitespace"; U+00A0 is content and has already become &nbsp;.
    private static bool IsAsciiWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    /// <summary>
    /// Collects text with whitespace collapsed and at most one line break between blocks; stops collecting past
    /// <paramref name="maxLength"/> characters, which is all a summary needs to know.
    /// </summary>
    private sealed class PlainTextBuilder(char lineBreak, int maxLength)
    {
        private readonly StringBuilder _text = new();
        private bool _pendingSpace;
        private bool _pendingBreak;

        public void AppendText(string text)
        {
            foreach (var c in text)
            {
                if (_text.Length > maxLength)
                {
                    return;
                }

                if (char.IsWhiteSpace(c))
                {
                    _pendingSpace = true;
                    continue;
                }

                if (_text.Length > 0 && (_pendingBreak || _pendingSpace))
                {
                    _text.Append(_pendingBreak ? lineBreak : ' ');
                }

                _pendingBreak = false;
                _pendingSpace = false;
                _text.Append(c);
            }
        }

        public void BreakLine() => _pendingBreak = true;

        public void BreakWord() => _pendingSpace = true;

        public override string ToString() => _text.ToString();
    }
}
