using System.Text;
using System.Text.RegularExpressions;

namespace NewsBot.Posts;

/// <summary>
/// Keeps the harmless part of a <c>style</c> attribute: the CSS subset of feedparser's
/// <c>HTMLSanitizer.sanitize_style</c> (sanitizer.py, BSD-2-Clause), so colours, fonts, alignment, margins and
/// borders survive while <c>url()</c>, <c>expression()</c>, <c>position</c> and vendor properties do not.
/// </summary>
internal static partial class StyleFilter
{
    private static readonly HashSet<string> AllowedProperties = new(
    [
        "azimuth", "background-color", "border-bottom-color", "border-collapse", "border-color", "border-left-color",
        "border-right-color", "border-top-color", "clear", "color", "cursor", "direction", "display", "elevation",
        "float", "font", "font-family", "font-size", "font-style", "font-variant", "font-weight", "height",
        "letter-spacing", "line-height", "overflow", "pause", "pause-after", "pause-before", "pitch", "pitch-range",
        "richness", "speak", "speak-header", "speak-numeral", "speak-punctuation", "speech-rate", "stress",
        "text-align", "text-decoration", "text-indent", "unicode-bidi", "vertical-align", "voice-family", "volume",
        "white-space", "width",
    ], StringComparer.Ordinal);

    // Shorthand families whose every value token must be a known keyword or a small size/colour.
    private static readonly HashSet<string> ShorthandFamilies = new(
        ["background", "border", "margin", "padding"], StringComparer.Ordinal);

    private static readonly HashSet<string> AllowedKeywords = new(
    [
        "!important", "aqua", "auto", "black", "block", "blue", "bold", "both", "bottom", "brown", "center",
        "collapse", "dashed", "dotted", "fuchsia", "gray", "green", "italic", "left", "lime", "maroon", "medium",
        "navy", "none", "normal", "nowrap", "olive", "pointer", "purple", "red", "right", "silver", "solid", "teal",
        "top", "transparent", "underline", "white", "yellow",
    ], StringComparer.Ordinal);

    /// <summary>The allowed declarations as <c>name: value;</c> joined by spaces; empty when nothing is left.</summary>
    /// <remarks>
    /// feedparser does this with regular expressions; here each step is a single forward scan, so cost stays linear
    /// on any input and nothing has to be compiled on first use.
    /// </remarks>
    public static string FilterStyle(string style)
    {
        style = RemoveUrls(style);
        if (!PassesGauntlet(style))
        {
            return "";
        }

        var clean = new StringBuilder();
        var position = 0;
        while (true)
        {
            position = SkipWhitespace(style, position);
            if (position == style.Length)
            {
                return clean.ToString();
            }

            // A declaration is  name \s* : \s* value [;]  with name = [-\w]+ and value = [^:;]*; anything else
            // (a stray ":" or ";", a name without a colon) rejects the whole attribute.
            var nameStart = position;
            while (position < style.Length && (IsWordChar(style[position]) || style[position] == '-'))
            {
                position++;
            }

            var property = style[nameStart..position];
            position = SkipWhitespace(style, position);
            if (property.Length == 0 || position == style.Length || style[position] != ':')
            {
                return "";
            }

            position = SkipWhitespace(style, position + 1);
            var valueStart = position;
            while (position < style.Length && style[position] is not (':' or ';'))
            {
                position++;
            }

            var value = style[valueStart..position];
            if (position < style.Length && style[position] == ';')
            {
                position++;
            }
            else if (position < style.Length)
            {
                return "";
            }

            if (value.Length == 0 || !IsAllowedDeclaration(property, value))
            {
                continue;
            }

            if (clean.Length > 0)
            {
                clean.Append(' ');
            }

            clean.Append(property).Append(": ").Append(value).Append(';');
        }
    }

    /// <summary>Replaces every <c>url( token )</c> and the spaces after it with one space.</summary>
    private static string RemoveUrls(string style)
    {
        var start = style.IndexOf("url", StringComparison.Ordinal);
        if (start < 0)
        {
            return style;
        }

        var output = new StringBuilder(style.Length);
        var copied = 0;
        while (start >= 0)
        {
            var end = MatchUrl(style, start, out var resumeAt);
            if (end > 0)
            {
                output.Append(style, copied, start - copied).Append(' ');
                copied = end;
                resumeAt = end;
            }

            start = style.IndexOf("url", resumeAt, StringComparison.Ordinal);
        }

        return output.Append(style, copied, style.Length - copied).ToString();
    }

    /// <summary>
    /// The end of <c>url\s*\(\s*[^\s)]+\s*\)\s*</c> at <paramref name="start"/>, or 0 when it does not match.
    /// On failure <paramref name="resumeAt"/> skips the token run: any "url" inside it would fail at the same place,
    /// and retrying each would make "url(url(url(..." quadratic.
    /// </summary>
    private static int MatchUrl(string style, int start, out int resumeAt)
    {
        resumeAt = start + 3;
        var i = SkipWhitespace(style, start + 3);
        if (i == style.Length || style[i] != '(')
        {
            return 0;
        }

        i = SkipWhitespace(style, i + 1);
        var tokenStart = i;
        while (i < style.Length && style[i] != ')' && !char.IsWhiteSpace(style[i]))
        {
            i++;
        }

        if (i == tokenStart)
        {
            return 0;
        }

        resumeAt = i;
        i = SkipWhitespace(style, i);
        return i < style.Length && style[i] == ')' ? SkipWhitespace(style, i + 1) : 0;
    }

    /// <summary>
    /// feedparser's character gauntlet <c>^([:,;#%.\sa-zA-Z0-9!]|\w-\w|'[\s\w]+'|"[\s\w]+"|\([\d,\s]+\))*$</c>:
    /// plain characters, hyphens inside words, quoted names and digit lists in parentheses, nothing else (no
    /// backslash escapes, comments, functions or at-rules). Each position allows one alternative only, so a
    /// single scan decides it.
    /// </summary>
    private static bool PassesGauntlet(string style)
    {
        var i = 0;
        while (i < style.Length)
        {
            var c = style[i];
            if (IsWordChar(c) && i + 2 < style.Length && style[i + 1] == '-' && IsWordChar(style[i + 2]))
            {
                i += 3;
            }
            else if (char.IsAsciiLetterOrDigit(c) || char.IsWhiteSpace(c) || c is ':' or ',' or ';' or '#' or '%' or '.' or '!')
            {
                i++;
            }
            else if (c is '\'' or '"')
            {
                var close = ScanWhile(style, i + 1, static ch => IsWordChar(ch) || char.IsWhiteSpace(ch));
                if (close == i + 1 || close == style.Length || style[close] != c)
                {
                    return false;
                }

                i = close + 1;
            }
            else if (c == '(')
            {
                var close = ScanWhile(style, i + 1, static ch => char.IsDigit(ch) || ch == ',' || char.IsWhiteSpace(ch));
                if (close == i + 1 || close == style.Length || style[close] != ')')
                {
                    return false;
                }

                i = close + 1;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static int ScanWhile(string text, int start, Func<char, bool> predicate)
    {
        var i = start;
        while (i < text.Length && predicate(text[i]))
        {
            i++;
        }

        return i;
    }

    private static int SkipWhitespace(string text, int start) => ScanWhile(text, start, char.IsWhiteSpace);

    // Regex \w: letters, digits and the connector punctuation "_".
    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static bool IsAllowedDeclaration(string property, string value)
    {
        var lower = property.ToLowerInvariant();
        if (AllowedProperties.Contains(lower))
        {
            return true;
        }

        var dash = lower.IndexOf('-');
        var family = dash < 0 ? lower : lower[..dash];
        if (!ShorthandFamilies.Contains(family))
        {
            return false;
        }

        foreach (var token in value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (!AllowedKeywords.Contains(token) && !ValueToken().IsMatch(token))
            {
                return false;
            }
        }

        return true;
    }

    // Hex colours, rgb() split into tokens by whitespace, and lengths of at most two digits either side of the point.
    [GeneratedRegex(@"^(#[0-9a-f]+|rgb\(\d+%?,\d*%?,?\d*%?\)?|\d{0,2}\.?\d{0,2}(cm|em|ex|in|mm|pc|pt|px|%|,|\))?)$", RegexOptions.CultureInvariant)]
    private static partial Regex ValueToken();
}
