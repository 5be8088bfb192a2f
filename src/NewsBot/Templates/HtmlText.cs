using System.Text;

namespace NewsBot.Templates;

/// <summary>The escaping and URL rules of the HTML formats (email HTML and Telegram's HTML subset).</summary>
public static class HtmlText
{
    /// <summary>
    /// Escapes the five characters that matter in HTML text and quoted attributes. Telegram's HTML parse mode accepts
    /// only <c>&amp;lt; &amp;gt; &amp;amp; &amp;quot;</c> by name but all numeric entities, hence <c>&amp;#39;</c>.
    /// </summary>
    public static string Escape(string text)
    {
        var first = text.AsSpan().IndexOfAny("&<>\"'");
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        builder.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            _ = c switch
            {
                '&' => builder.Append("&amp;"),
                '<' => builder.Append("&lt;"),
                '>' => builder.Append("&gt;"),
                '"' => builder.Append("&quot;"),
                '\'' => builder.Append("&#39;"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>An absolute http(s) URL as given, anything else (<c>javascript:</c>, relative, garbage) as <c>#</c>.</summary>
    public static string SafeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return "#";
        }

        var trimmed = url.Trim();
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? trimmed
            : "#";
    }

    /// <summary>
    /// The length of a Telegram HTML message "after entities parsing" (Bot API, sendMessage: 1-4096 characters):
    /// tags count nothing, an entity counts as the one character it stands for. Counted in UTF-16 code units, as
    /// Telegram counts entity offsets, so a message this method passes is never too long.
    /// </summary>
    public static int VisibleLength(string html)
    {
        var length = 0;
        for (var i = 0; i < html.Length; i++)
        {
            var c = html[i];
            if (c == '<')
            {
                var end = html.IndexOf('>', i);
                i = end < 0 ? html.Length : end;
            }
            else if (c == '&' && html.IndexOf(';', i) is var semi and > 0 && semi - i <= 10)
            {
                // A numeric entity above U+FFFF is a surrogate pair: two code units.
                length += html.AsSpan(i, semi - i).StartsWith("&#") && EntityCodePoint(html.AsSpan(i + 2, semi - i - 2)) > 0xFFFF ? 2 : 1;
                i = semi;
            }
            else
            {
                length++;
            }
        }

        return length;
    }

    private static int EntityCodePoint(ReadOnlySpan<char> digits)
    {
        var hex = digits.Length > 0 && digits[0] is 'x' or 'X';
        return int.TryParse(hex ? digits[1..] : digits, hex ? System.Globalization.NumberStyles.HexNumber : System.Globalization.NumberStyles.None, null, out var value) ? value : 0;
    }
}
