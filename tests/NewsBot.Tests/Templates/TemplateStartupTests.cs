using NewsBot.Cli;
using NewsBot.Templates;

namespace NewsBot.Tests.Templates;

/// <summary>A broken template or a wrong template setting stops the start like any other wrong setting.</summary>
public sealed class TemplateStartupTests
{
    private static IReadOnlyList<string> StartFailures(Dictionary<string, string?> configuration)
    {
        var e = Record.Exception(() => CliApp.BuildServices(configuration));
        Assert.NotNull(e);
        return ServiceHost.ConfigurationFailures(e);
    }

    [Fact]
    public void BrokenOverrideTemplateFailsTheStartWithLineAndColumn()
    {
        var failures = StartFailures(new() { ["NewsBot:Templates:Folder"] = TestPaths.Fixture("templates/broken") });

        Assert.Contains(failures, f => f.StartsWith("NewsBot:Templates: ", StringComparison.Ordinal) && f.Contains("post.telegram.sbn(3,28): ", StringComparison.Ordinal));
    }

    [Fact]
    public void WrongTemplateSettingsFailTheStartNamingTheKeys()
    {
        var failures = StartFailures(new()
        {
            ["NewsBot:Templates:SiteName"] = " ",
            ["NewsBot:Templates:PublicBaseUrl"] = "ftp://news.example",
        });

        Assert.Contains(failures, f => f.StartsWith("NewsBot:Templates:SiteName is empty", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("NewsBot:Templates:PublicBaseUrl 'ftp://news.example'", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingOverrideFolderFailsTheStart()
    {
        var missing = Path.Combine(Path.GetTempPath(), "newsbot-no-such-folder-" + Guid.NewGuid().ToString("N"));

        var failures = StartFailures(new() { ["NewsBot:Templates:Folder"] = missing });

        Assert.Contains(failures, f => f.Contains($"NewsBot:Templates:Folder '{missing}' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void TheRendererResolvesWithTheConfiguredSite()
    {
        var services = CliApp.BuildServices(new Dictionary<string, string?> { ["NewsBot:Templates:SiteName"] = "Tokyo Desk", ["NewsBot:DataDirectory"] = Path.GetTempPath() });
        var renderer = services.GetRequiredService<TemplateRenderer>();

        var post = new TemplatePost(1, "Title", "https://blog.example/1", "Summary", [], null, null);
        var body = renderer.RenderPost(post, MessageFormat.EmailText).Personalise(new SubscriberLinks("https://x.example/p", "https://x.example/u"));

        Assert.Contains("You receive this from Tokyo Desk.", body);
    }
}
