using System.Collections.Frozen;
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
    private static readonly FrozenSet<string> AllowedProperties = FrozenSet.Create(StringComparer.Ordinal,
    [
        "azimuth", "background-color", "border-bottom-color", "border-collapse", "border-color", "border-left-color",
        "border-right-color", "border-top-color", "clear", "color", "cursor", "direction", "display", "elevation",
        "float", "font", "font-family", "font-size", "font-style", "font-variant", "font-weight", "height",
        "letter-spacing", "line-height", "overflow", "pause", "pause-after", "pause-before", "pitch", "pitch-range",
        "richness", "speak", "speak-header", "speak-numeral", "speak-punctuation", "speech-rate", "stress",
        "text-align", "text-decoration", "text-indent", "unicode-bidi", "vertical-align", "voice-family", "volume",
        "white-space", "width",
    ]);

    // Shorthand families whose every value token must be a known keyword or a small size/colour.
    private static readonly FrozenSet<string> ShorthandFamilies = FrozenSet.Create(StringComparer.Ordinal,
        ["background", "border", "margin", "padding"]);

    private static readonly FrozenSet<string> AllowedKeywords = FrozenSet.Create(StringComparer.Ordinal,
    [
        "!important", "aqua", "auto", "black", "block", "blue", "bold", "both", "bottom", "brown", "center",
        "collapse", "dashed", "dotted", "fuchsia", "gray", "green", "italic", "left", "lime", "maroon", "medium",
        "navy", "none", "normal", "nowrap", "olive", "pointer", "purple", "red", "right", "silver", "solid", "teal",
        "top", "transparent", "underline", "white", "yellow",
    ]);

    /// <summary>The allowed declarations as <c>name: value;</c> joined by spaces; empty when nothing is left.</summary>
    public static string FilterStyle(string style)
    {
        style = UrlPattern().Replace(style, " ");

        // Only plain tokens may appear at all: no url(), no escapes, no comments, no functions but digit lists.
        if (!CharacterGauntlet().IsMatch(style) || DeclarationPattern().Replace(style, "").Trim().Length > 0)
        {
            return "";
        }

        var clean = new StringBuilder();
        foreach (Match declaration in PropertyValuePattern().Matches(style))
        {
            var property = declaration.Groups[1].Value;
            var value = declaration.Groups[2].Value;
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

        return clean.ToString();
    }

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

    [GeneratedRegex(@"url\s*\(\s*[^\s)]+?\s*\)\s*", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();

    // NonBacktracking: the alternation with \w-\w backtracks exponentially on long styles in a backtracking engine.
    [GeneratedRegex(@"^([:,;#%.\sa-zA-Z0-9!]|\w-\w|'[\s\w]+'|""[\s\w]+""|\([\d,\s]+\))*$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex CharacterGauntlet();

    [GeneratedRegex(@"\s*[-\w]+\s*:\s*[^:;]*;?", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex DeclarationPattern();

    [GeneratedRegex(@"([-\w]+)\s*:\s*([^:;]*)", RegexOptions.CultureInvariant)]
    private static partial Regex PropertyValuePattern();

    // Hex colours, rgb() split into tokens by whitespace, and lengths of at most two digits either side of the point.
    [GeneratedRegex(@"^(#[0-9a-f]+|rgb\(\d+%?,\d*%?,?\d*%?\)?|\d{0,2}\.?\d{0,2}(cm|em|ex|in|mm|pc|pt|px|%|,|\))?)$", RegexOptions.CultureInvariant)]
    private static partial Regex ValueToken();
}
