using System.Text;

namespace NewsBot.Posts;

/// <summary>
/// Removes the tags (keeping the text) of markup nested deeper than a limit, before the HTML parser sees it.
/// AngleSharp's tree builder checks element scope by walking the stack of open elements (WHATWG HTML §13.2.4.2),
/// so each start tag costs time proportional to the depth: 10,000 nested <c>div</c>s take seconds and 100,000 take
/// over a minute. This linear pre-pass only estimates depth (it does not run the tree construction rules), which is
/// enough because its output still goes through the full parser and sanitizer.
/// </summary>
internal static class NestingLimiter
{
    // WHATWG HTML §13.1.2 void elements, plus those whose end tag is optional or implied (§13.1.2.4): neither
    // kind nests reliably, so counting them would make long flat documents look deep.
    private static readonly HashSet<string> UncountedElements = new(
    [
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input", "keygen",
        "link", "meta", "param", "source", "track", "wbr",
        "body", "caption", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option", "p", "rb", "rp", "rt",
        "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
    ], StringComparer.Ordinal);

    // §13.2.5: the tokenizer reads these elements' content as text up to the matching end tag.
    private static readonly HashSet<string> RawTextElements = new(
        ["iframe", "noembed", "noframes", "script", "style", "textarea", "title", "xmp"], StringComparer.Ordinal);

    /// <summary>
    /// The markup unchanged when it cannot nest deeper than <paramref name="maxDepth"/>; otherwise the markup with
    /// every tag, comment and raw-text element below that depth removed.
    /// </summary>
    public static string LimitNesting(string html, int maxDepth)
    {
        if (html.AsSpan().Count('<') <= maxDepth)
        {
            return html;
        }

        var output = new StringBuilder(html.Length);
        var depth = 0;
        var position = 0;
        while (position < html.Length)
        {
            var open = html.IndexOf('<', position);
            if (open < 0)
            {
                output.Append(html, position, html.Length - position);
                break;
            }

            output.Append(html, position, open - position);
            var deep = depth >= maxDepth;
            if (string.CompareOrdinal(html, open, "<!--", 0, 4) == 0)
            {
                var close = html.IndexOf("-->", open + 4, StringComparison.Ordinal);
                position = close < 0 ? html.Length : close + 3;
                AppendUnlessDeep(output, html, open, position, deep);
                continue;
            }

            var next = open + 1 < html.Length ? html[open + 1] : '\0';
            var isEndTag = next == '/';
            var nameStart = isEndTag ? open + 2 : open + 1;
            if (next is '!' or '?')
            {
                position = FindTagEnd(html, open + 1);
                AppendUnlessDeep(output, html, open, position, deep);
                continue;
            }

            if (nameStart >= html.Length || !char.IsAsciiLetter(html[nameStart]))
            {
                // §13.2.5.6: "<" not followed by a letter is text.
                output.Append('<');
                position = open + 1;
                continue;
            }

            var nameEnd = nameStart;
            while (nameEnd < html.Length && !char.IsWhiteSpace(html[nameEnd]) && html[nameEnd] is not ('/' or '>'))
            {
                nameEnd++;
            }

            var name = html[nameStart..nameEnd].ToLowerInvariant();
            var tagEnd = FindTagEnd(html, nameEnd);
            var counted = !UncountedElements.Contains(name);
            if (isEndTag)
            {
                var closesDeepElement = counted ? depth > maxDepth : deep;
                if (counted && depth > 0)
                {
                    depth--;
                }

                AppendUnlessDeep(output, html, open, tagEnd, closesDeepElement);
                position = tagEnd;
                continue;
            }

            if (RawTextElements.Contains(name))
            {
                var close = html.IndexOf("</" + name, tagEnd, StringComparison.OrdinalIgnoreCase);
                position = close < 0 ? html.Length : FindTagEnd(html, close + 2 + name.Length);
                AppendUnlessDeep(output, html, open, position, deep);
                continue;
            }

            if (counted)
            {
                depth++;
            }

            AppendUnlessDeep(output, html, open, tagEnd, counted ? depth > maxDepth : deep);
            position = tagEnd;
        }

        return output.ToString();
    }

    private static void AppendUnlessDeep(StringBuilder output, string html, int start, int end, bool deep)
    {
        if (!deep)
        {
            output.Append(html, start, end - start);
        }
    }

    /// <summary>The index after the <c>&gt;</c> closing a tag, skipping quoted attribute values.</summary>
    private static int FindTagEnd(string html, int from)
    {
        var quote = '\0';
        var previous = '\0';
        for (var i = from; i < html.Length; i++)
        {
            var c = html[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'' && previous == '=')
            {
                // §13.2.5.35: a quote opens a value only right after "=" (and spaces); elsewhere it is a name character.
                quote = c;
            }
            else if (c == '>')
            {
                return i + 1;
            }

            if (!char.IsWhiteSpace(c))
            {
                previous = c;
            }
        }

        return html.Length;
    }
}
