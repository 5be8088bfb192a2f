using AngleSharp.Html.Parser;

using NewsBot.Posts;

namespace NewsBot.Tests.Posts;

public sealed class ContentSanitizerTests
{
    private static readonly Uri Base = new("https://blog.test/posts/2024/hello.html");

    [Fact]
    public void Sanitize_KeepsAllowedMarkupUnchanged()
    {
        const string html = "<p>Hi <a href=\"https://x.test/a?b=1&amp;c=2\" title=\"t\">link</a>, <em>now</em>.</p>"
            + "<ul><li>one</li></ul><img src=\"https://x.test/i.png\" alt=\"pic\">";

        Assert.Equal(html, ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("safe<script>alert(1)</script> text", "safe text")]
    [InlineData("safe<SCRIPT type=\"text/javascript\">alert(1)</SCRIPT> text", "safe text")]
    [InlineData("safe<style>p { color: red }</style> text", "safe text")]
    [InlineData("safe<svg><script>alert(1)</script><text>svg</text></svg> text", "safe text")]
    [InlineData("safe<template><b>inert</b></template> text", "safe text")]
    public void Sanitize_RemovesScriptLikeElementsWithTheirContent(string html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("<blink>safe</blink> text", "safe text")]
    [InlineData("<form action=\"https://evil.test/\"><b>safe</b> text</form>", "<b>safe</b> text")]
    [InlineData("<noscript><b>safe</b> text</noscript>", "<b>safe</b> text")]
    [InlineData("<object data=\"https://x.test/f.swf\"><b>safe</b> text</object>", "<b>safe</b> text")]
    [InlineData("<custom-card>safe text</custom-card>", "safe text")]
    public void Sanitize_UnwrapsOtherElementsKeepingTheirContent(string html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.Sanitize(html, null));
    }

    [Fact]
    public void Sanitize_RemovesComments()
    {
        Assert.Equal("a b", ContentSanitizer.Sanitize("a <!-- <script>alert(1)</script> -->b", null));
    }

    [Theory]
    [InlineData("<img src=\"https://x.test/i.png\" onclick=\"alert(1)\">")]
    [InlineData("<img src=\"https://x.test/i.png\" ONERROR=\"alert(1)\">")]
    [InlineData("<img src=\"https://x.test/i.png\" onmouseover=alert(1) onload='alert(2)'>")]
    public void Sanitize_RemovesEventHandlerAttributes(string html)
    {
        Assert.Equal("<img src=\"https://x.test/i.png\">", ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("JAVASCRIPT:alert(1)")]
    [InlineData("JavaScript:alert(1)")]
    [InlineData("jav&#x09;ascript:alert(1)")]
    [InlineData("jav&#x0A;ascript:alert(1)")]
    [InlineData("jav&#13;ascript:alert(1)")]
    [InlineData("java\tscript:alert(1)")]
    [InlineData("  &#x01;javascript:alert(1)")]
    [InlineData("&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)")]
    [InlineData("javascript&colon;alert(1)")]
    [InlineData("vbscript:msgbox(1)")]
    [InlineData("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")]
    [InlineData("data:image/png;base64,iVBORw0KGgo=")]
    [InlineData("file:///etc/passwd")]
    public void Sanitize_RemovesLinksWithUnsafeSchemes(string href)
    {
        Assert.Equal("<a>click</a>", ContentSanitizer.Sanitize($"<a href=\"{href}\">click</a>", Base));
    }

    [Theory]
    [InlineData("https://x.test/a")]
    [InlineData("http://x.test/a")]
    [InlineData("mailto:someone@x.test")]
    [InlineData("tel:+15555550100")]
    public void Sanitize_KeepsLinksWithSafeSchemes(string href)
    {
        Assert.Equal($"<a href=\"{href}\">x</a>", ContentSanitizer.Sanitize($"<a href=\"{href}\">x</a>", Base));
    }

    [Fact]
    public void Sanitize_KeepsOnlyRasterDataImagesInImgSrc()
    {
        const string png = "data:image/png;base64,iVBORw0KGgo=";

        Assert.Equal($"<img src=\"{png}\">", ContentSanitizer.Sanitize($"<img src=\"{png}\">", null));
        Assert.Equal("<img>", ContentSanitizer.Sanitize("<img src=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\">", null));
        Assert.Equal("<video></video>", ContentSanitizer.Sanitize($"<video poster=\"{png}\"></video>", null));
    }

    [Theory]
    [InlineData("/about", "https://blog.test/about")]
    [InlineData("next.html", "https://blog.test/posts/2024/next.html")]
    [InlineData("../2023/old.html?a=1", "https://blog.test/posts/2023/old.html?a=1")]
    [InlineData("#comments", "https://blog.test/posts/2024/hello.html#comments")]
    [InlineData("//cdn.test/x.png", "https://cdn.test/x.png")]
    [InlineData(" https://other.test/kept ", "https://other.test/kept")]
    public void Sanitize_ResolvesRelativeUrlsAgainstTheBase(string url, string expected)
    {
        var html = $"<a href=\"{url}\"><img src=\"{url}\"></a>";

        Assert.Equal($"<a href=\"{expected}\"><img src=\"{expected}\"></a>", ContentSanitizer.Sanitize(html, Base));
    }

    [Fact]
    public void Sanitize_LeavesRelativeUrlsAloneWithoutABase()
    {
        Assert.Equal("<a href=\"/about\">x</a>", ContentSanitizer.Sanitize("<a href=\"/about\">x</a>", null));
    }

    [Fact]
    public void Sanitize_RejectsARelativeBase()
    {
        var error = Assert.Throws<ArgumentException>(() => ContentSanitizer.Sanitize("<p>x</p>", new Uri("/feed", UriKind.Relative)));

        Assert.Contains("absolute", error.Message, StringComparison.Ordinal);
        Assert.Equal("baseUri", error.ParamName);
    }

    [Theory]
    [InlineData("a & b < c", "a &amp; b &lt; c")]
    [InlineData("a &amp; b &lt; c", "a &amp; b &lt; c")]
    [InlineData("<b>a & b < c</b>", "<b>a &amp; b &lt; c</b>")]
    [InlineData("x > y", "x &gt; y")]
    [InlineData("fish&nbsp;&amp;&nbsp;chips", "fish&nbsp;&amp;&nbsp;chips")]
    public void Sanitize_EscapesTextCharacters(string html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.Sanitize(html, null));
    }

    [Fact]
    public void Sanitize_EscapesQuotesAndAngleBracketsInAttributes()
    {
        var html = "<abbr title='say \"hi\" <now> &amp; then'>x</abbr>";

        Assert.Equal("<abbr title=\"say &quot;hi&quot; &lt;now&gt; &amp; then\">x</abbr>", ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("color: red; position: absolute; background-image: url(https://x.test/i.png)", "color: red;")]
    [InlineData("width: expression(alert(1))", null)]
    [InlineData("behavior: url(x.htc)", null)]
    [InlineData("font-family: 'Lucida Console'; mso-bidi-font-weight: normal", "font-family: 'Lucida Console';")]
    [InlineData("margin: 0 15px 0 0; padding: 99999em", "margin: 0 15px 0 0;")]
    [InlineData("-webkit-border-horizontal-spacing: 1px; color: red", null)]
    public void Sanitize_KeepsOnlyTheSafeCssSubset(string style, string? expected)
    {
        var actual = ContentSanitizer.Sanitize($"<p style=\"{style}\">x</p>", null);

        Assert.Equal(expected is null ? "<p>x</p>" : $"<p style=\"{expected}\">x</p>", actual);
    }

    [Theory]
    [InlineData("<a href=\"https://x.test/\" target=\"_blank\">x</a>", "<a href=\"https://x.test/\" target=\"_blank\" rel=\"noopener\">x</a>")]
    [InlineData("<a rel=\"nofollow\" href=\"https://x.test/\" target=\"w\">x</a>", "<a rel=\"nofollow noopener\" href=\"https://x.test/\" target=\"w\">x</a>")]
    [InlineData("<a href=\"https://x.test/\" target=\"_blank\" rel=\"noreferrer\">x</a>", "<a href=\"https://x.test/\" target=\"_blank\" rel=\"noreferrer\">x</a>")]
    [InlineData("<a href=\"https://x.test/\" rel=\"author\">x</a>", "<a href=\"https://x.test/\" rel=\"author\">x</a>")]
    public void Sanitize_AddsNoopenerOnlyToLinksWithATarget(string html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("safe<iframe src=\"https://x.test/\"/> description", "safe description")]
    [InlineData("<iframe src=\"https://video.test/embed/1\"><a href=\"https://video.test/1\">Watch</a></iframe>", "<a href=\"https://video.test/1\">Watch</a>")]
    [InlineData("a<iframe src=\"https://video.test/embed/1\"></iframe>b", "ab")]
    [InlineData("<iframe><script>alert(1)</script>ok</iframe>", "ok")]
    public void Sanitize_KeepsFrameFallbackContentAsSanitizedMarkup(string html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></p></noscript>")]
    [InlineData("<pre>\n\nindented\n  code</pre>")]
    [InlineData("<textarea>\n<b>not bold</b></textarea>")]
    [InlineData("<math><mi>x</mi><style><img src=x onerror=alert(1)></style></math>")]
    [InlineData("<table><tr><td>a</td></tr><form><td>b</td></form></table>")]
    [InlineData("<p>a<div>b</div>c</p>")]
    [InlineData("<a href=\"https://x.test/\">1<a href=\"https://y.test/\">2</a></a>")]
    [InlineData("<xmp><script>alert(1)</script></xmp>")]
    public void Sanitize_OutputParsesBackToTheSameMarkup(string html)
    {
        var once = ContentSanitizer.Sanitize(html, null);
        var twice = ContentSanitizer.Sanitize(once, null);

        Assert.Equal(once, twice);
        var reparsed = new HtmlParser().ParseDocument(once);
        Assert.Empty(reparsed.QuerySelectorAll("script, style, noscript, math"));
        Assert.DoesNotContain(reparsed.All, e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  \n ")]
    [InlineData("<!-- only a comment -->")]
    public void Sanitize_ReturnsEmptyForNoContent(string? html)
    {
        Assert.Equal("", ContentSanitizer.Sanitize(html, null));
    }

    [Theory]
    [InlineData("div")]
    [InlineData("b")]
    [InlineData("blockquote")]
    [InlineData("span")]
    public void Sanitize_FinishesOnVeryDeepNestingAndKeepsText(string tag)
    {
        // 20,000 levels stay under MaxInputChars and are far beyond what AngleSharp alone parses in seconds.
        const int depth = 20_000;
        var html = "top " + string.Concat(Enumerable.Repeat($"<{tag}>", depth)) + "deepest text"
            + string.Concat(Enumerable.Repeat($"</{tag}>", depth));

        var sanitized = ContentSanitizer.Sanitize(html, null);

        Assert.StartsWith("top ", sanitized, StringComparison.Ordinal);
        Assert.Contains("deepest text", sanitized, StringComparison.Ordinal);
        Assert.Equal("top deepest text", ContentSanitizer.ToPlainText(html).Replace('\n', ' '));
    }

    [Fact]
    public void Sanitize_FinishesOnUnclosedDeepNestingAndKeepsText()
    {
        var html = string.Concat(Enumerable.Repeat("<div><b>word ", 30_000));

        var text = ContentSanitizer.ToPlainText(html);

        Assert.Equal(30_000, text.Split(' ', '\n').Count(w => w == "word"));
    }

    [Fact]
    public void Sanitize_CutsInputBeyondTheLimitBeforeAnOpenTag()
    {
        var html = new string('a', ContentSanitizer.MaxInputChars - 4) + "<a href=\"https://x.test/\">link</a>";

        var sanitized = ContentSanitizer.Sanitize(html, null);

        Assert.Equal(new string('a', ContentSanitizer.MaxInputChars - 4), sanitized);
    }

    [Fact]
    public void Sanitize_CutsInputBeyondTheLimit()
    {
        var html = "<p>" + new string('a', ContentSanitizer.MaxInputChars * 2) + "</p>";

        var sanitized = ContentSanitizer.Sanitize(html, null);

        Assert.StartsWith("<p>aaa", sanitized, StringComparison.Ordinal);
        Assert.Equal(ContentSanitizer.MaxInputChars - "<p>".Length, sanitized.Count(c => c == 'a'));
    }

    [Fact]
    public void Sanitize_GivesTheSameResultOnParallelThreads()
    {
        const string html = "<p onclick=\"x()\">Hello <a href=\"/a\">there</a><script>bad()</script></p>";
        var expected = ContentSanitizer.Sanitize(html, Base);

        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = ContentSanitizer.Sanitize(html, Base));

        Assert.All(results, result => Assert.Equal(expected, result));
        Assert.Equal("<p>Hello <a href=\"https://blog.test/a\">there</a></p>", expected);
    }

    [Fact]
    public void ToPlainText_TurnsBlocksIntoLinesAndCollapsesWhitespace()
    {
        const string html = "<h1>Title</h1><p>Hello&nbsp;<b>world</b>,\n   how   are you?</p>"
            + "<ul><li>one</li><li>two</li></ul>line<br>break<table><tr><td>a</td><td>b</td></tr></table>";

        Assert.Equal("Title\nHello world, how are you?\none\ntwo\nline\nbreak\na b", ContentSanitizer.ToPlainText(html));
    }

    [Theory]
    [InlineData("Fish &amp; chips &lt;3 &#x1F41F; &eacute;", "Fish & chips <3 🐟 é")]
    [InlineData("a<script>var x = '<p>';</script>b<style>p{}</style>c", "abc")]
    [InlineData("  plain   text\r\n with  spaces ", "plain text with spaces")]
    [InlineData(null, "")]
    public void ToPlainText_DecodesEntitiesAndDropsScriptText(string? html, string expected)
    {
        Assert.Equal(expected, ContentSanitizer.ToPlainText(html));
    }

    [Fact]
    public void Summarize_ReturnsShortTextOnOneLine()
    {
        Assert.Equal("Title Body text.", ContentSanitizer.Summarize("<h2>Title</h2><p>Body text.</p>"));
    }

    [Fact]
    public void Summarize_CutsLongTextAtAWordBoundaryWithAnEllipsis()
    {
        var words = string.Join(' ', Enumerable.Range(1, 200).Select(i => $"word{i}"));

        var summary = ContentSanitizer.Summarize($"<p>{words}</p>", 50);

        Assert.True(summary.Length <= 50, $"{summary.Length} chars: {summary}");
        Assert.EndsWith("…", summary, StringComparison.Ordinal);
        Assert.StartsWith(summary[..^1] + " ", words, StringComparison.Ordinal);
    }

    [Fact]
    public void Summarize_DropsTrailingPunctuationBeforeTheEllipsis()
    {
        Assert.Equal("First part…", ContentSanitizer.Summarize("First part, second part and the rest", 13));
    }

    [Fact]
    public void Summarize_CutsTextWithoutSpacesWithoutSplittingASurrogatePair()
    {
        var text = string.Concat(Enumerable.Repeat("😀", 20));

        var summary = ContentSanitizer.Summarize(text, 10);

        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 4)) + "…", summary);
    }

    [Fact]
    public void Summarize_RejectsATooSmallLimit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ContentSanitizer.Summarize("text", 1));
    }

    [Theory]
    [InlineData("<p onclick=\"x()\">Hello <a href=\"/a\">there</a><script>bad()</script></p><p>Second paragraph</p>")]
    [InlineData("plain text only, no markup at all")]
    [InlineData("safe<iframe src=\"https://x.test/\"/> fallback <b>text</b>")]
    [InlineData("<table><tr><td>a</td><td>b</td></tr></table><ul><li>one</li></ul>")]
    [InlineData(null)]
    public void SanitizeWithSummary_MatchesSanitizeAndSummarize(string? html)
    {
        var words = string.Join(' ', Enumerable.Repeat("filler", 60));

        foreach (var input in new[] { html, html + "<p>" + words + "</p>" })
        {
            var content = ContentSanitizer.SanitizeWithSummary(input, Base, 100);

            Assert.Equal(ContentSanitizer.Sanitize(input, Base), content.Html);
            Assert.Equal(ContentSanitizer.Summarize(input, 100), content.Summary);
        }
    }

    [Fact]
    public void HashContent_IsLowerCaseHexSha256()
    {
        var hash = ContentSanitizer.HashContent("Title", "<p>Body</p>");

        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(hash, ContentSanitizer.HashContent("Title", "<p>Body</p>"));
    }

    [Fact]
    public void HashContent_IgnoresWhitespaceOnlyChanges()
    {
        Assert.Equal(
            ContentSanitizer.HashContent("A  title", "<p>Body\n text</p>"),
            ContentSanitizer.HashContent(" A title\n", "  <p>Body text</p>"));
    }

    [Theory]
    [InlineData("Title", "<p>Body!</p>")]
    [InlineData("Title!", "<p>Body</p>")]
    [InlineData("Title", "<p><a href=\"https://x.test/\">Body</a></p>")]
    [InlineData("Title<p>", "Body</p>")]
    public void HashContent_ChangesWithTitleOrContent(string title, string html)
    {
        Assert.NotEqual(ContentSanitizer.HashContent("Title", "<p>Body</p>"), ContentSanitizer.HashContent(title, html));
    }
}
