using NewsBot.Templates;

namespace NewsBot.Tests.Templates;

/// <summary>A post to a configured Telegram channel: the same message as a subscriber's, without the personal links.</summary>
public sealed class BroadcastRenderTests
{
    private readonly TemplateRenderer renderer = new(new TemplateOptions { SiteName = "Sample News", PublicBaseUrl = "https://news.example" });

    private static TemplatePost SamplePost(string summary = "The cabinet approved new measures on dual-use goods.") => new(
        1, "Japan tightens <export> sanctions & more", "https://blog.example/2024/06/post-1.html", summary,
        ["sanctions", "japan-politics"], new DateTimeOffset(2024, 6, 26, 9, 0, 0, TimeSpan.Zero), "Kenji Sato");

    [Fact]
    public void ABroadcastIsTheSubscribersMessageWithoutTheLinks()
    {
        var personal = renderer.RenderPost(SamplePost(), MessageFormat.Telegram).Personalise(new SubscriberLinks("https://news.example/p/1", "https://news.example/u/1"));
        var broadcast = renderer.RenderBroadcastPost(SamplePost());

        Assert.Equal(0, broadcast.LinkCount);
        Assert.DoesNotContain("news.example", broadcast.Body);
        Assert.DoesNotContain("newsbot.invalid", broadcast.Body);
        Assert.DoesNotContain("Unsubscribe", broadcast.Body);
        Assert.Equal(
            broadcast.Body.TrimEnd() + "\n\n<a href=\"https://news.example/p/1\">Preferences</a> · <a href=\"https://news.example/u/1\">Unsubscribe</a>",
            personal.TrimEnd());
        Assert.Contains("Japan tightens &lt;export&gt; sanctions &amp; more", broadcast.Body);
    }

    [Fact]
    public void ALongBroadcastIsShortenedToTelegramsLimit()
    {
        var broadcast = renderer.RenderBroadcastPost(SamplePost(string.Concat(Enumerable.Repeat("Sanctions bite slowly. ", 435))));

        Assert.InRange(HtmlText.VisibleLength(broadcast.Body), 4000, TemplateRenderer.TelegramMaxLength);
        Assert.Contains("…", broadcast.Body);
    }

    [Fact]
    public void AnOverrideThatWritesTheLinksInABroadcastStopsTheStart()
    {
        var folder = Path.Combine(Path.GetTempPath(), "newsbot-templates", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "post.telegram.sbn"), "{{ post.title }}\n<a href=\"{{ subscriber.unsubscribe_url }}\">Unsubscribe</a>\n");

            var error = Assert.Throws<TemplateException>(() => new TemplateRenderer(new TemplateOptions { Folder = folder }));

            Assert.Contains("post.telegram.sbn(2,", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
