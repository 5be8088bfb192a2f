using NewsBot.Cli;
using NewsBot.Templates;

namespace NewsBot.Tests.Templates;

public sealed class PageRenderingTests
{
    private static TemplateRenderer Renderer(string? folder = null) =>
        new(new TemplateOptions { SiteName = "Tokyo <Desk>", PublicBaseUrl = "https://news.example/", Folder = folder });

    [Fact]
    public void RenderPage_EscapesEveryValue_AndWrapsItInTheLayoutWithItsTitle()
    {
        var html = Renderer().RenderPage(PageTemplates.Unsubscribe, new UnsubscribePage("unsubscribe?t=a&b", "\"><script>alert(1)</script>@example.org"));

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<title>Unsubscribe · Tokyo &lt;Desk&gt;</title>", html, StringComparison.Ordinal);
        Assert.Contains("action=\"unsubscribe?t=a&amp;b\"", html, StringComparison.Ordinal);
        Assert.Contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.org", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderPage_EveryMessageKindHasItsOwnText()
    {
        var renderer = Renderer();

        var headings = PageTemplates.MessageKinds
            .Select(kind => System.Text.RegularExpressions.Regex.Match(renderer.RenderPage(PageTemplates.Message, new MessagePage(kind, "x", null)), "<h1>(.*?)</h1>").Groups[1].Value)
            .ToList();

        Assert.DoesNotContain("Something went wrong", headings);
        Assert.Equal(PageTemplates.MessageKinds.Count, headings.Count(h => h.Length > 0));
    }

    [Fact]
    public void RenderPage_RefusesANameThatIsNotAPage()
    {
        var error = Assert.Throws<ArgumentException>(() => Renderer().RenderPage("post.email.html.sbn", new object()));

        Assert.Contains("'post.email.html.sbn' is not a page template", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderConfirmation_MakesSubjectHtmlAndText_WithTheLink()
    {
        var link = "https://news.example/confirm?t=c.1.email.1764400000.abc&x";

        var message = Renderer().RenderConfirmation(new ConfirmationEmail("a@example.org", link, null, ["sanctions", "nuclear"], "daily", "30 Nov 2026 18:00 UTC"));
        var known = Renderer().RenderConfirmation(new ConfirmationEmail("a@example.org", null, "https://news.example/preferences?t=p", [], "daily", null));

        Assert.Equal("Confirm your subscription to Tokyo <Desk>", message.Subject);
        Assert.Contains("href=\"https://news.example/confirm?t=c.1.email.1764400000.abc&amp;x\"", message.Html, StringComparison.Ordinal);
        Assert.Contains(link + "\n", message.Text, StringComparison.Ordinal);
        Assert.Contains("for sanctions, nuclear.", message.Text, StringComparison.Ordinal);
        Assert.Contains("works until 30 Nov 2026 18:00 UTC", message.Text, StringComparison.Ordinal);
        Assert.Equal("You are already subscribed to Tokyo <Desk>", known.Subject);
        Assert.Contains("https://news.example/preferences?t=p", known.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("confirm?t=", known.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOverrideFolder_ReplacesAPageTemplate()
    {
        var html = Renderer(TestPaths.Fixture("templates/pages")).RenderPage(PageTemplates.Message, new MessagePage("confirmed", "a@example.org", null));

        Assert.Contains("<title>Nachricht · Tokyo &lt;Desk&gt;</title>", html, StringComparison.Ordinal);
        Assert.Contains("<h1>Nachricht: confirmed</h1>", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"viewport\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ABrokenPageOverride_StopsTheStart_WithLineAndColumn()
    {
        var e = Record.Exception(() => CliApp.BuildServices(new Dictionary<string, string?> { ["NewsBot:Templates:Folder"] = TestPaths.Fixture("templates/broken-page") }));

        Assert.NotNull(e);
        var failures = ServiceHost.ConfigurationFailures(e);
        Assert.True(failures.Any(f => f.Contains("page.unsubscribe.html.sbn(2,12): Cannot get member with name adress", StringComparison.Ordinal)), string.Join("\n", failures));
    }
}
