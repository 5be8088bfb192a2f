using System.Text.RegularExpressions;

using NewsBot.Templates;

namespace NewsBot.Tests.Templates;

public sealed class TemplateRendererTests
{
    private static readonly MessageFormat[] HtmlFormats = [MessageFormat.Telegram, MessageFormat.EmailHtml];

    private static readonly DigestPeriod Week = new("weekly", new DateTimeOffset(2024, 6, 20, 8, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 6, 26, 8, 0, 0, TimeSpan.Zero));

    private static readonly SubscriberLinks Links = new("https://news.example/s/prefs?id=7&t=a\"b'c", "https://news.example/s/unsub?id=7&t=x<y>");

    private readonly TemplateRenderer renderer = new(new TemplateOptions { SiteName = "Sample News", PublicBaseUrl = "https://news.example" });

    private static TemplatePost SamplePost(long id = 1, string? title = null, string? url = null, string? summary = null) => new(
        id,
        title ?? $"Japan tightens export sanctions {id}",
        url ?? $"https://blog.example/2024/06/post-{id}.html",
        summary ?? $"The cabinet approved new measures on dual-use goods, number {id}.",
        ["sanctions", "japan-politics"],
        new DateTimeOffset(2024, 6, 26, 23, 30, 0, TimeSpan.FromHours(-2)),
        "Kenji Sato");

    private static List<TemplatePost> SamplePosts(int count) => [.. Enumerable.Range(1, count).Select(i => SamplePost(i))];

    public static TheoryData<MessageFormat> AllFormats => [MessageFormat.Telegram, MessageFormat.EmailHtml, MessageFormat.EmailText];

    public static TheoryData<MessageFormat, string> HostileTitles()
    {
        var data = new TheoryData<MessageFormat, string>();
        foreach (var format in HtmlFormats)
        {
            data.Add(format, "<script>alert(1)</script>");
            data.Add(format, "a & b < c");
            data.Add(format, "\"quoted\" 'single'");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void RenderPost_ShowsEveryFieldOfTheSample(MessageFormat format)
    {
        var message = renderer.RenderPost(SamplePost(), format);
        var body = message.Personalise(new SubscriberLinks("https://news.example/p/1", "https://news.example/u/1"));

        Assert.Equal("Japan tightens export sanctions 1", message.Subject);
        Assert.Contains("Japan tightens export sanctions 1", body);
        Assert.Contains("https://blog.example/2024/06/post-1.html", body);
        Assert.Contains("The cabinet approved new measures on dual-use goods, number 1.", body);
        Assert.Contains("27 Jun 2024", body); // 23:30 at UTC-2 is the 27th in UTC
        Assert.Contains("Kenji Sato", body);
        Assert.Contains("https://news.example/p/1", body);
        Assert.Contains("https://news.example/u/1", body);
        Assert.Equal(2, message.LinkCount);
        Assert.DoesNotContain("newsbot.invalid", body);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void RenderDigest_ShowsEveryPostAndThePeriod(MessageFormat format)
    {
        var message = Assert.Single(renderer.RenderDigest(SamplePosts(3), Week, format));
        var body = message.Personalise(new SubscriberLinks("https://news.example/p/1", "https://news.example/u/1"));

        Assert.Equal("Sample News weekly digest, 20–26 Jun 2024: 3 new posts", message.Subject);
        Assert.Contains("20–26 Jun 2024", body);
        Assert.Contains("Sample News", body);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Contains($"Japan tightens export sanctions {i}", body);
            Assert.Contains($"https://blog.example/2024/06/post-{i}.html", body);
        }

        Assert.Contains("https://news.example/u/1", body);
        Assert.DoesNotContain("more", body);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void Render_APostWithoutUrlDateAuthorOrTopics(MessageFormat format)
    {
        var bare = new TemplatePost(5, "Untitled note", null, "Just text.", [], null, null);

        var post = renderer.RenderPost(bare, format).Body;
        var digest = Assert.Single(renderer.RenderDigest([bare], Week, format)).Body;

        foreach (var body in new[] { post, digest })
        {
            Assert.Contains("Untitled note", body);
            Assert.Contains("Just text.", body);
            Assert.DoesNotContain("href=\"#\"", body);
            Assert.DoesNotContain(" · \n", body);
        }
    }

    [Fact]
    public void RenderDigest_TelegramUsesOnlyTheTagsTelegramAccepts()
    {
        var allowed = new HashSet<string> { "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote", "tg-spoiler" };
        foreach (var body in new[] { Assert.Single(renderer.RenderDigest(SamplePosts(5), Week, MessageFormat.Telegram)).Body, renderer.RenderPost(SamplePost(), MessageFormat.Telegram).Body })
        {
            var tags = Regex.Matches(body, "</?([a-zA-Z-]+)").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(tags);
            Assert.All(tags, tag => Assert.Contains(tag, allowed));
        }
    }

    [Fact]
    public void RenderDigest_EmailHtmlHasTheFooterLinks()
    {
        var body = Assert.Single(renderer.RenderDigest(SamplePosts(2), Week, MessageFormat.EmailHtml)).Personalise(new SubscriberLinks("https://news.example/p/9", "https://news.example/u/9"));

        Assert.Matches("<a href=\"https://news.example/p/9\"[^>]*>Change topics or cadence</a>", body);
        Assert.Matches("<a href=\"https://news.example/u/9\"[^>]*>Unsubscribe</a>", body);
        Assert.Contains("role=\"presentation\"", body);
    }

    [Theory]
    [MemberData(nameof(HostileTitles))]
    public void Render_EscapesTitlesInHtmlFormats(MessageFormat format, string title)
    {
        var post = SamplePost(title: title, summary: title);
        var bodies = new[] { renderer.RenderPost(post, format).Body, Assert.Single(renderer.RenderDigest([post], Week, format)).Body };

        foreach (var body in bodies)
        {
            Assert.DoesNotContain(title, body);
            Assert.DoesNotContain("<script>", body);
            Assert.Contains(HtmlText.Escape(title), body);
        }
    }

    [Theory]
    [InlineData(MessageFormat.Telegram)]
    [InlineData(MessageFormat.EmailHtml)]
    public void Render_EscapesTheExpectedEntities(MessageFormat format)
    {
        var body = renderer.RenderPost(SamplePost(title: "a & b < c", summary: "<script>alert(1)</script> \"quoted\" 'single'"), format).Body;

        Assert.Contains("a &amp; b &lt; c", body);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &#39;single&#39;", body);
    }

    [Fact]
    public void Render_LeavesPlainTextUnescaped()
    {
        var body = renderer.RenderPost(SamplePost(title: "a & b < c", summary: "<script>alert(1)</script> \"quoted\" 'single'"), MessageFormat.EmailText).Body;

        Assert.Contains("a & b < c", body);
        Assert.Contains("<script>alert(1)</script> \"quoted\" 'single'", body);
        Assert.DoesNotContain("&amp;", body);
    }

    [Theory]
    [InlineData(MessageFormat.Telegram, "javascript:alert(1)")]
    [InlineData(MessageFormat.EmailHtml, "javascript:alert(1)")]
    [InlineData(MessageFormat.EmailHtml, " JavaScript:alert(document.cookie)")]
    [InlineData(MessageFormat.EmailHtml, "data:text/html,<script>alert(1)</script>")]
    [InlineData(MessageFormat.Telegram, "/relative/path")]
    public void Render_ReplacesUnsafeHrefsWithHash(MessageFormat format, string url)
    {
        var body = renderer.RenderPost(SamplePost(url: url), format).Body;

        Assert.DoesNotContain("alert", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("relative", body);
        Assert.Contains("href=\"#\"", body);
    }

    [Theory]
    [InlineData(MessageFormat.Telegram)]
    [InlineData(MessageFormat.EmailHtml)]
    public void Render_EscapesQuotesInsideHrefs(MessageFormat format)
    {
        var body = renderer.RenderPost(SamplePost(url: "https://blog.example/a\"onmouseover=\"alert(1)&x='y'"), format).Body;

        Assert.DoesNotContain("\"onmouseover", body);
        Assert.Contains("href=\"https://blog.example/a&quot;onmouseover=&quot;alert(1)&amp;x=&#39;y&#39;\"", body);
    }

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void Personalise_EqualsADirectRenderWithTheLinks(MessageFormat format)
    {
        var posts = SamplePosts(4);
        var digest = Assert.Single(renderer.RenderDigest(posts, Week, format));
        var post = renderer.RenderPost(posts[0], format);

        Assert.Equal(Assert.Single(renderer.RenderDigest(posts, Week, format, Links)).Body, digest.Personalise(Links));
        Assert.Equal(renderer.RenderPost(posts[0], format, Links).Body, post.Personalise(Links));
        Assert.NotEqual(digest.Personalise(Links), digest.Personalise(new SubscriberLinks("https://other.example/p", "https://other.example/u")));
    }

    [Fact]
    public void Personalise_EscapesLinksForHtmlOnly()
    {
        var html = renderer.RenderPost(SamplePost(), MessageFormat.EmailHtml).Personalise(Links);
        var text = renderer.RenderPost(SamplePost(), MessageFormat.EmailText).Personalise(Links);

        Assert.Contains("https://news.example/s/unsub?id=7&amp;t=x&lt;y&gt;", html);
        Assert.DoesNotContain("t=x<y>", html);
        Assert.Contains("https://news.example/s/unsub?id=7&t=x<y>", text);
    }

    [Fact]
    public void Personalise_RefusesALinkThatIsNotHttp()
    {
        var message = renderer.RenderPost(SamplePost(), MessageFormat.EmailHtml);

        var e = Assert.Throws<ArgumentException>(() => message.Personalise(new SubscriberLinks("javascript:alert(1)", "https://news.example/u")));
        Assert.Contains("PreferencesUrl", e.Message);
    }

    private static List<TemplatePost> LongPosts(int count) =>
        [.. SamplePosts(count).Select(p => p with { Summary = string.Concat(Enumerable.Repeat("Sanctions & <export> rules. ", 10)) })];

    [Fact]
    public void RenderDigest_TelegramSplitsALongDigestAtPostBoundariesIntoValidMessages()
    {
        var parts = renderer.RenderDigest(LongPosts(60), Week, MessageFormat.Telegram).Select(p => p.Personalise(Links)).ToList();

        Assert.InRange(parts.Count, 2, TemplateRenderer.TelegramMaxDigestParts);
        var shown = new List<int>();
        for (var i = 0; i < parts.Count; i++)
        {
            Assert.InRange(HtmlText.VisibleLength(parts[i]), 1, TemplateRenderer.TelegramMaxLength);
            // Each part stands alone: balanced, Telegram-only tags, as the fake Bot API checks them.
            Assert.Null(NewsBot.Tests.Telegram.FakeBotApi.ParseHtml(parts[i], out var plain, out _));
            Assert.Contains($"digest, 20–26 Jun 2024 ({i + 1}/{parts.Count})", plain);
            Assert.Contains("Unsubscribe", plain);
            Assert.DoesNotContain("more post", plain);
            shown.AddRange(Regex.Matches(plain, "Japan tightens export sanctions (\\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Equal(Enumerable.Range(1, 60), shown);
    }

    [Fact]
    public void RenderDigest_TelegramFillsEachPartBeforeStartingTheNext()
    {
        var posts = LongPosts(60);

        var parts = renderer.RenderDigest(posts, Week, MessageFormat.Telegram);

        // A part followed by the next part's first post would not fit in one message.
        var start = 0;
        foreach (var part in parts.SkipLast(1))
        {
            var count = Regex.Matches(part.Body, "Japan tightens export sanctions \\d+<").Count;
            var withNext = renderer.RenderDigest(posts.Skip(start).Take(count + 1).ToList(), Week, MessageFormat.Telegram);
            Assert.Equal(2, withNext.Count);
            start += count;
        }
    }

    [Fact]
    public void RenderDigest_TelegramDigestThatFitsIsOneMessageWithoutAPartHeader()
    {
        var body = Assert.Single(renderer.RenderDigest(LongPosts(3), Week, MessageFormat.Telegram)).Body;

        Assert.Contains("digest, 20–26 Jun 2024\n", body);
        Assert.DoesNotContain("(1/1)", body);
    }

    [Fact]
    public void RenderDigest_TelegramBeyondTheLastPartSaysHowManyMorePosts()
    {
        var parts = renderer.RenderDigest(LongPosts(200), Week, MessageFormat.Telegram);

        Assert.Equal(TemplateRenderer.TelegramMaxDigestParts, parts.Count);
        var shown = parts.Sum(p => Regex.Matches(p.Body, "Japan tightens export sanctions \\d+<").Count);
        Assert.InRange(shown, 20, 199);
        Assert.Contains($"…and {200 - shown} more posts", parts[^1].Body);
        Assert.All(parts.SkipLast(1), p => Assert.DoesNotContain("more post", p.Body, StringComparison.Ordinal));
        Assert.All(parts, p => Assert.InRange(HtmlText.VisibleLength(p.Personalise(Links)), 1, TemplateRenderer.TelegramMaxLength));
    }

    [Fact]
    public void RenderDigest_TelegramPartsPersonaliseLikeADirectRender()
    {
        var posts = LongPosts(40);

        var parts = renderer.RenderDigest(posts, Week, MessageFormat.Telegram);
        var direct = renderer.RenderDigest(posts, Week, MessageFormat.Telegram, Links);

        Assert.Equal(direct.Select(p => p.Body), parts.Select(p => p.Personalise(Links)));
        Assert.All(parts, p => Assert.Equal(parts[0].Subject, p.Subject));
    }

    [Fact]
    public void RenderDigest_TelegramGivesAPostTooLongToShareAMessageOneOfItsOwn()
    {
        var huge = SamplePost(2, title: string.Concat(Enumerable.Repeat("Long title & more ", 216)));

        var parts = renderer.RenderDigest([SamplePost(1), huge, SamplePost(3)], Week, MessageFormat.Telegram);

        Assert.Equal(3, parts.Count);
        Assert.Contains("Long title &amp; more", parts[1].Body);
        Assert.DoesNotContain("sanctions 1<", parts[1].Body);
        Assert.DoesNotContain("sanctions 3<", parts[1].Body);
        Assert.All(parts, p => Assert.InRange(HtmlText.VisibleLength(p.Personalise(Links)), 1, TemplateRenderer.TelegramMaxLength));
    }

    [Fact]
    public void RenderDigest_EmailKeepsAll60Posts()
    {
        var body = Assert.Single(renderer.RenderDigest(SamplePosts(60), Week, MessageFormat.EmailHtml)).Body;

        Assert.Equal(60, Regex.Matches(body, "Japan tightens export sanctions \\d+</a>").Count);
    }

    [Fact]
    public void RenderPost_TelegramShortensALongSummaryToFit()
    {
        var post = SamplePost(summary: string.Concat(Enumerable.Repeat("a < b & c ", 1000)));

        var body = renderer.RenderPost(post, MessageFormat.Telegram).Body;

        Assert.InRange(HtmlText.VisibleLength(body), TemplateRenderer.TelegramMaxLength - 10, TemplateRenderer.TelegramMaxLength);
        Assert.Contains("…", body);
        Assert.Contains("Unsubscribe</a>", body);
    }

    [Fact]
    public void RenderDigest_RefusesAnEmptyDigest()
    {
        var e = Assert.Throws<ArgumentException>(() => renderer.RenderDigest([], Week, MessageFormat.EmailHtml));
        Assert.Contains("at least one post", e.Message);
    }

    [Fact]
    public void Constructor_ReportsTheLineAndColumnOfABrokenOverride()
    {
        var e = Assert.Throws<TemplateException>(() => new TemplateRenderer(new TemplateOptions { Folder = TestPaths.Fixture("templates/broken") }));

        // Line 3 is "Summary: {{ post.summary | }}": column 28 is the "}}" where the pipe's right side is missing.
        Assert.Contains(Path.Combine(TestPaths.Fixture("templates/broken"), "post.telegram.sbn") + "(3,28): Error while parsing pipe expression", e.Message);
        Assert.Contains("post.telegram.sbn(4,21): Error while parsing for statement: The <end> statement was not found", e.Message);
    }

    [Fact]
    public void Constructor_ReportsAnUnknownVariableFoundByTheSampleRender()
    {
        var e = Assert.Throws<TemplateException>(() => new TemplateRenderer(new TemplateOptions { Folder = TestPaths.Fixture("templates/unknown-variable") }));

        Assert.EndsWith("subject.post.sbn(2,9): Cannot get member with name headline.", e.Message);
    }

    [Fact]
    public void Constructor_RefusesAFileThatIsNotATemplateName()
    {
        var folder = Directory.CreateTempSubdirectory("newsbot-templates-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "post.telegarm.sbn"), "{{ post.title }}");

            var e = Assert.Throws<TemplateException>(() => new TemplateRenderer(new TemplateOptions { Folder = folder.FullName }));
            Assert.Contains("post.telegarm.sbn: not a template NewsBot renders", e.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Override_ReplacesOnlyThatTemplate()
    {
        var custom = new TemplateRenderer(new TemplateOptions { Folder = TestPaths.Fixture("templates/override"), SiteName = "Sample News", PublicBaseUrl = "https://news.example" });

        var text = custom.RenderPost(SamplePost(), MessageFormat.EmailText).Personalise(Links);
        Assert.Equal("OVERRIDDEN Japan tightens export sanctions 1\n" + Links.UnsubscribeUrl + "\n", text.ReplaceLineEndings("\n"));
        Assert.Equal(renderer.RenderPost(SamplePost(), MessageFormat.EmailHtml).Personalise(Links), custom.RenderPost(SamplePost(), MessageFormat.EmailHtml).Personalise(Links));
        Assert.Equal(Assert.Single(renderer.RenderDigest(SamplePosts(2), Week, MessageFormat.EmailText)).Personalise(Links), Assert.Single(custom.RenderDigest(SamplePosts(2), Week, MessageFormat.EmailText)).Personalise(Links));
    }

    [Fact]
    public void Raw_WritesAMarkedValueUnescapedAndOnlyThatValue()
    {
        var custom = new TemplateRenderer(new TemplateOptions { Folder = TestPaths.Fixture("templates/raw") });

        var body = custom.RenderPost(SamplePost(title: "<b>bold</b>"), MessageFormat.EmailHtml).Body.ReplaceLineEndings("\n");

        // A raw value joined to other strings is a plain string again, and escaped.
        Assert.Equal("<p>&lt;b&gt;bold&lt;/b&gt;</p>\n<p><b>bold</b></p>\n<p><hr></p>\n<p>&lt;i&gt;x&lt;/i&gt;</p>\n", body);
    }

    [Fact]
    public void Render_GivesTheSameResultFromManyThreads()
    {
        var posts = SamplePosts(10);
        var expected = Assert.Single(renderer.RenderDigest(posts, Week, MessageFormat.EmailHtml)).Personalise(Links);
        var results = new string[64];

        Parallel.For(0, results.Length, i => results[i] = Assert.Single(renderer.RenderDigest(posts, Week, MessageFormat.EmailHtml)).Personalise(Links));

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Theory]
    [InlineData("2024-06-20T08:00:00Z", "2024-06-26T08:00:00Z", "20–26 Jun 2024")]
    [InlineData("2024-05-30T08:00:00Z", "2024-06-05T08:00:00Z", "30 May – 5 Jun 2024")]
    [InlineData("2024-12-30T08:00:00Z", "2025-01-05T08:00:00Z", "30 Dec 2024 – 5 Jan 2025")]
    [InlineData("2024-06-26T01:00:00Z", "2024-06-26T23:00:00Z", "26 Jun 2024")]
    public void FormatRange_ShowsTheShortestUnambiguousRange(string from, string to, string expected)
    {
        Assert.Equal(expected, TemplateRenderer.FormatRange(DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(to, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
