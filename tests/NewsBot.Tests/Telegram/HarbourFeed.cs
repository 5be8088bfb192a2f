namespace NewsBot.Tests.Telegram;

/// <summary>
/// The Blogger fixture feed as a file of its own, configured as feed <c>harbour</c>, that a test publishes new
/// posts into: the service's next poll sees them as new.
/// </summary>
public sealed class HarbourFeed : IDisposable
{
    /// <summary>A post whose title carries <c>&lt;</c>, <c>&amp;</c> and an emoji, in the topic sanctions.</summary>
    public const string EmbargoEntry = """
          <entry>
            <id>tag:blogger.com,1999:blog-1111222233334444.post-6000</id>
            <published>2024-07-08T09:00:00.000+09:00</published>
            <title type='text'>Embargo &lt;Widens&gt; &amp; Tankers Wait 🚢</title>
            <content type='html'>&lt;p&gt;The embargo now covers refined fuel.&lt;/p&gt;</content>
            <link rel='alternate' type='text/html' href='https://harbour-watch.example.org/2024/07/embargo.html'/>
          </entry>
        """;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "newsbot-feeds", Guid.NewGuid().ToString("n"));

    public HarbourFeed()
    {
        Directory.CreateDirectory(_folder);
        File.Copy(TestPaths.Fixture("feeds/blogger-page1.xml"), FilePath);
    }

    public string FilePath => Path.Combine(_folder, "feed.xml");

    /// <summary>The feed settings; no backfill, so the first poll stores the file's posts without announcing them.</summary>
    public (string Key, string? Value)[] Settings =>
        [("NewsBot:Feeds:0:Name", "harbour"), ("NewsBot:Feeds:0:Url", FilePath), ("NewsBot:Feeds:0:Backfill", "false")];

    /// <summary>Adds <paramref name="entries"/> (Atom <c>entry</c> elements) at the end, with a newer modification time.</summary>
    public void Publish(string entries)
    {
        File.WriteAllText(FilePath, File.ReadAllText(FilePath).Replace("</feed>", entries + "</feed>", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(FilePath, DateTime.UtcNow.AddMinutes(1));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
