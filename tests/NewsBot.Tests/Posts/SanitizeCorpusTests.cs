using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

using NewsBot.Posts;

using Xunit.Abstractions;

namespace NewsBot.Tests.Posts;

/// <summary>
/// Runs <see cref="ContentSanitizer.Sanitize"/> over feedparser's sanitize corpus: each file names, in an
/// "Expect:" Python expression, the feed field it checks and the HTML feedparser produces for it.
/// </summary>
public sealed partial class SanitizeCorpusTests(ITestOutputHelper output)
{
    private const string Corpus = "feedparser/wellformed/sanitize";

    private const string TablePartOutsideTable =
        "feedparser keeps a table part that has no table; the HTML parser ignores it (HTML §13.2.6.4.7 'in body')";


    private const string CrazyDocument =
        "feedparser's sgmllib keeps text of comments and the script body; the HTML parser drops comments, <title> and script";

    /// <summary>Cases where we differ from feedparser on purpose, each with the reason.</summary>
    private static readonly Dictionary<string, string> DeliberateDifferences = new()
    {
        ["acceptable_element_form.xml"] = "a form is unwrapped: in a newsletter it can post credentials anywhere",
        ["acceptable_element_noscript.xml"] = "noscript is unwrapped: a scripting browser re-parses its content as raw text (mXSS)",
        ["acceptable_element_br.xml"] = "HTML §13.2.6.4.7 turns </br> into a second <br>, as every browser does",
        ["acceptable_element_command.xml"] = "command is not a void element in today's HTML, so it keeps an end tag",
        ["acceptable_attribute_ping.xml"] = "ping only makes a click POST to tracking URLs, so it is dropped",
        ["feed_title_unacceptable_uri.xml"] = "an unsafe href is removed rather than left empty: href=\"\" links to the current page",
        ["acceptable_element_caption.xml"] = TablePartOutsideTable,
        ["acceptable_element_col.xml"] = TablePartOutsideTable,
        ["acceptable_element_colgroup.xml"] = TablePartOutsideTable,
        ["acceptable_element_tbody.xml"] = TablePartOutsideTable,
        ["acceptable_element_td.xml"] = TablePartOutsideTable,
        ["acceptable_element_tfoot.xml"] = TablePartOutsideTable,
        ["acceptable_element_th.xml"] = TablePartOutsideTable,
        ["acceptable_element_thead.xml"] = TablePartOutsideTable,
        ["acceptable_element_tr.xml"] = TablePartOutsideTable,
        ["style_moz_background_clip_initial.xml"] = TablePartOutsideTable,
        ["xml_malicious_comment.xml"] = "HTML §13.2.5.51: '-- ' does not end a comment, so, as in browsers, the rest is comment",
        ["xml_declaration_unexpected_character.xml"] = "HTML reads '<!DOCTYPE ~' as a doctype token (ignored in a body); sgmllib leaves it as text",
        ["item_content_encoded_script_nested_cdata.xml"] = "HTML §13.2.5.42: '<![CDATA[' outside SVG/MathML opens a bogus comment; feedparser escapes it",
        ["entry_content_crazy.xml"] = CrazyDocument,
        ["entry_summary_crazy.xml"] = CrazyDocument,
        ["entry_title_crazy.xml"] = CrazyDocument,
        ["feed_copyright_crazy.xml"] = CrazyDocument,
        ["feed_info_crazy.xml"] = CrazyDocument,
        ["feed_subtitle_crazy.xml"] = CrazyDocument,
        ["feed_tagline_crazy.xml"] = CrazyDocument,
        ["feed_title_crazy.xml"] = CrazyDocument,
        ["item_content_encoded_crazy.xml"] = CrazyDocument,
        ["item_description_crazy.xml"] = CrazyDocument,
        ["item_fullitem_crazy.xml"] = CrazyDocument,
    };

    [SkippableFact]
    public void Sanitize_MatchesFeedparserExpectations()
    {
        var folder = TestPaths.RequireCorpus(Corpus);
        var applicable = 0;
        var passed = 0;
        var notApplicable = new List<string>();
        var failures = new List<string>();
        var unexpectedPasses = new List<string>();
        foreach (var path in Directory.GetFiles(folder, "*.xml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            var testCase = CorpusCase.Load(path);
            if (testCase.Expected is null)
            {
                notApplicable.Add($"{name}: {testCase.Reason}");
                continue;
            }

            applicable++;
            var actual = ContentSanitizer.Sanitize(testCase.Html, testCase.BaseUri);
            var matches = Normalise(actual) == Normalise(testCase.Expected);
            if (DeliberateDifferences.ContainsKey(name))
            {
                if (matches)
                {
                    unexpectedPasses.Add(name);
                }

                continue;
            }

            if (matches)
            {
                passed++;
            }
            else
            {
                failures.Add($"{name}\n  input:    {testCase.Html}\n  expected: {testCase.Expected}\n  actual:   {actual}");
            }
        }

        output.WriteLine($"{passed} of {applicable - DeliberateDifferences.Count} applicable cases pass, "
            + $"{DeliberateDifferences.Count} differ on purpose, {notApplicable.Count} not applicable:");
        notApplicable.ForEach(output.WriteLine);
        failures.ForEach(output.WriteLine);

        Assert.True(applicable > 700, $"only {applicable} applicable cases found in {folder}");
        Assert.All(DeliberateDifferences.Keys, name => Assert.True(File.Exists(Path.Combine(folder, name)), $"{name} is not in the corpus"));
        Assert.Empty(unexpectedPasses);
        Assert.Empty(failures);
    }

    [SkippableFact]
    public void Sanitize_CleansTheLargeFeedWithHeavyInlineCss()
    {
        // The corpus file's only expectation is that sanitizing ends (feedparser once backtracked forever on it).
        var path = Path.Combine(TestPaths.RequireCorpus(Corpus), "large_atom_feed_that_needs_css_sanitisation.xml");
        var contents = XDocument.Load(path).Descendants(XName.Get("content", "http://www.w3.org/2005/Atom")).ToList();

        var sanitized = contents.Select(c => ContentSanitizer.Sanitize(c.Value, new Uri("http://touchnokia.ru/"))).ToList();

        Assert.True(contents.Count > 10, $"{contents.Count} entries");
        Assert.All(sanitized, html => Assert.NotEmpty(html));
        Assert.All(sanitized, html => Assert.DoesNotContain("-webkit-", html, StringComparison.Ordinal));
        Assert.Contains(sanitized, html => html.Contains("style=\"text-align: center;\"", StringComparison.Ordinal));
        Assert.Contains(contents, c => c.Value.Contains("<embed", StringComparison.Ordinal));
        Assert.All(sanitized, html => Assert.DoesNotContain("<embed", html, StringComparison.Ordinal));
    }

    /// <summary>Differences of serialisation only: XHTML self-closing slashes, whitespace runs, nbsp spelling.</summary>
    private static string Normalise(string html)
    {
        html = SelfClosingSlash().Replace(html, ">");
        html = html.Replace("&nbsp;", "\u00A0", StringComparison.Ordinal);
        return WhitespaceRun().Replace(html, " ").Trim();
    }

    [GeneratedRegex(@"\s*/>")]
    private static partial Regex SelfClosingSlash();

    [GeneratedRegex(@"[ \t\r\n\f]+")]
    private static partial Regex WhitespaceRun();

    /// <summary>One corpus file: the HTML of the field its Expect line checks, and feedparser's result.</summary>
    private sealed partial record CorpusCase(string Html, Uri? BaseUri, string? Expected, string Reason)
    {
        private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";

        private static readonly HashSet<string> VoidElements =
            ["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"];

        public static CorpusCase Load(string path)
        {
            var text = File.ReadAllText(path);
            var expect = ExpectLine().Match(text);
            if (!expect.Success)
            {
                return new CorpusCase("", null, null, "no Expect line");
            }

            var comparison = Comparison().Match(expect.Groups[1].Value.Trim());
            if (!comparison.Success)
            {
                return new CorpusCase("", null, null, $"not a value comparison: {expect.Groups[1].Value.Trim()}");
            }

            var field = comparison.Groups["field"].Value;
            var document = XDocument.Parse(text, LoadOptions.PreserveWhitespace);
            var element = FindElement(document, field);
            if (element is null)
            {
                return new CorpusCase("", null, null, $"no element for {field}");
            }

            var expected = PythonString.Parse(comparison.Groups["value"].Value, path);
            return new CorpusCase(ReadHtml(element), ReadBase(element), expected, "");
        }

        /// <summary>The feed element behind a feedparser field name (feedparser's own aliasing, in order).</summary>
        private static XElement? FindElement(XDocument document, string field)
        {
            var root = document.Root!;
            var feed = root.Name.LocalName == "feed" ? root : root.Descendants().FirstOrDefault(e => e.Name.LocalName == "channel");
            var entry = root.Descendants().FirstOrDefault(e => e.Name.LocalName is "entry" or "item");
            string[] summaryNames = ["summary", "description", "content", "encoded", "body", "fullitem"];
            var (scope, names) = field switch
            {
                "entries[0]['content'][0]['value']" => (entry, new[] { "content", "encoded", "body", "fullitem" }),
                "entries[0]['description']" or "entries[0]['summary']" => (entry, summaryNames),
                "entries[0]['title']" => (entry, ["title"]),
                "feed['title']" => (feed, ["title"]),
                "feed['tagline']" or "feed['subtitle']" or "feed['description']" => (feed, ["subtitle", "tagline", "description"]),
                "feed['info']" => (feed, ["info"]),
                "feed['copyright']" => (feed, ["copyright", "rights"]),
                _ => (null, []),
            };

            return names
                .Select(name => scope?.Elements().FirstOrDefault(e => e.Name.LocalName == name))
                .FirstOrDefault(e => e is not null);
        }

        /// <summary>RFC 4287 §3.1.1 (type) and Atom 0.3 "mode": how a text construct carries its HTML.</summary>
        private static string ReadHtml(XElement element)
        {
            var type = (string?)element.Attribute("type") ?? "";
            var mode = (string?)element.Attribute("mode") ?? "";
            if (mode == "base64")
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(element.Value));
            }

            if (type == "xhtml")
            {
                // RFC 4287 §4.1.3.3: the wrapping xhtml:div is not part of the content.
                var div = element.Elements(Xhtml + "div").Single();
                return WriteChildrenAsHtml(div);
            }

            if (mode == "xml" || type == "application/xhtml+xml" || element.HasElements)
            {
                return WriteChildrenAsHtml(element);
            }

            return type is "text" or "text/plain" ? EscapeText(element.Value) : element.Value;
        }

        private static Uri? ReadBase(XElement element)
        {
            Uri? baseUri = null;
            foreach (var ancestor in element.AncestorsAndSelf().Reverse())
            {
                var xmlBase = (string?)ancestor.Attribute(XNamespace.Xml + "base");
                if (xmlBase is not null)
                {
                    baseUri = baseUri is null ? new Uri(xmlBase, UriKind.Absolute) : new Uri(baseUri, xmlBase);
                }
            }

            return baseUri;
        }

        // Inline XHTML reaches the sanitizer as an HTML string, the way the feed parser hands it over:
        // an empty <iframe/> must become <iframe></iframe>, or HTML would read the rest of the post as its content.
        private static string WriteChildrenAsHtml(XElement parent)
        {
            var html = new StringBuilder();
            foreach (var node in parent.Nodes())
            {
                WriteHtml(html, node);
            }

            return html.ToString();
        }

        private static void WriteHtml(StringBuilder html, XNode node)
        {
            switch (node)
            {
                case XText text:
                    html.Append(EscapeText(text.Value));
                    break;
                case XComment comment:
                    html.Append("<!--").Append(comment.Value).Append("-->");
                    break;
                case XElement element:
                    var name = element.Name.LocalName;
                    html.Append('<').Append(name);
                    foreach (var attribute in element.Attributes().Where(a => !a.IsNamespaceDeclaration))
                    {
                        var prefix = attribute.Name.Namespace == XNamespace.Xml ? "xml:" : "";
                        html.Append(' ').Append(prefix).Append(attribute.Name.LocalName).Append("=\"")
                            .Append(attribute.Value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal))
                            .Append('"');
                    }

                    html.Append('>');
                    if (!VoidElements.Contains(name))
                    {
                        foreach (var child in element.Nodes())
                        {
                            WriteHtml(html, child);
                        }

                        html.Append("</").Append(name).Append('>');
                    }

                    break;
            }
        }

        private static string EscapeText(string text) =>
            text.Replace("&", "&amp;", StringComparison.Ordinal)
                .Replace("<", "&lt;", StringComparison.Ordinal)
                .Replace(">", "&gt;", StringComparison.Ordinal);

        [GeneratedRegex(@"^\s*Expect:(.*)$", RegexOptions.Multiline)]
        private static partial Regex ExpectLine();

        [GeneratedRegex(@"^not bozo and (?<field>\S+) == (?<value>.+)$")]
        private static partial Regex Comparison();
    }

    /// <summary>Reads a Python expression of string literals joined by "+" ('...', "...", '''...''', u'...').</summary>
    private static class PythonString
    {
        public static string Parse(string expression, string path)
        {
            var result = new StringBuilder();
            var i = 0;
            while (true)
            {
                i = SkipSpaces(expression, i);
                if (i < expression.Length && expression[i] is 'u' or 'U')
                {
                    i++;
                }

                if (i >= expression.Length || expression[i] is not ('\'' or '"'))
                {
                    throw new FormatException($"{path}: expected a string literal at {i} in {expression}");
                }

                var quote = expression.AsSpan(i).StartsWith("'''") || expression.AsSpan(i).StartsWith("\"\"\"")
                    ? expression.Substring(i, 3)
                    : expression[i].ToString();
                i += quote.Length;
                while (!expression.AsSpan(i).StartsWith(quote))
                {
                    if (i >= expression.Length)
                    {
                        throw new FormatException($"{path}: unterminated string literal in {expression}");
                    }

                    if (expression[i] != '\\')
                    {
                        result.Append(expression[i++]);
                        continue;
                    }

                    var escape = expression[i + 1];
                    i += 2;
                    switch (escape)
                    {
                        case 'n': result.Append('\n'); break;
                        case 't': result.Append('\t'); break;
                        case 'r': result.Append('\r'); break;
                        case 'x':
                            result.Append((char)int.Parse(expression.AsSpan(i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            i += 2;
                            break;
                        case 'u':
                            result.Append((char)int.Parse(expression.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            i += 4;
                            break;
                        case 'U':
                            result.Append(char.ConvertFromUtf32(int.Parse(expression.AsSpan(i, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                            i += 8;
                            break;
                        case '\\' or '\'' or '"': result.Append(escape); break;
                        default: result.Append('\\').Append(escape); break;
                    }
                }

                i = SkipSpaces(expression, i + quote.Length);
                if (i >= expression.Length)
                {
                    return result.ToString();
                }

                if (expression[i] != '+')
                {
                    throw new FormatException($"{path}: expected '+' at {i} in {expression}");
                }

                i++;
            }
        }

        private static int SkipSpaces(string text, int i)
        {
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }

            return i;
        }
    }
}
