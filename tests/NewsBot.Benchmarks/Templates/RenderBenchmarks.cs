using BenchmarkDotNet.Attributes;

using NewsBot.Templates;

namespace NewsBot.Benchmarks.Templates;

/// <summary>One full Scriban render of a 10-post digest per format, and one personalisation of a rendered digest.</summary>
[MemoryDiagnoser]
public class RenderBenchmarks
{
    private readonly TemplateRenderer renderer = new(new TemplateOptions { SiteName = "Sample News", PublicBaseUrl = "https://news.example" });
    private readonly IReadOnlyList<TemplatePost> posts = SampleDigest.Posts(10);
    private readonly SubscriberLinks links = SampleDigest.Links(42);
    private RenderedMessage html = null!;
    private RenderedMessage text = null!;

    [GlobalSetup]
    public void RenderOnce()
    {
        html = renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailHtml)[0];
        text = renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailText)[0];
    }

    [Benchmark]
    public RenderedMessage RenderDigestEmailHtml() => renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailHtml)[0];

    [Benchmark]
    public RenderedMessage RenderDigestEmailText() => renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailText)[0];

    [Benchmark]
    public RenderedMessage RenderDigestTelegram() => renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.Telegram)[0];

    [Benchmark]
    public int PersonaliseHtmlAndText() => html.Personalise(links).Length + text.Personalise(links).Length;
}

/// <summary>A digest of realistic size: titles, 300-character summaries with characters that need escaping, two topics.</summary>
public static class SampleDigest
{
    public static DigestPeriod Period { get; } = new("daily", new DateTimeOffset(2024, 6, 25, 8, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 6, 26, 8, 0, 0, TimeSpan.Zero));

    public static IReadOnlyList<TemplatePost> Posts(int count) =>
    [
        .. Enumerable.Range(1, count).Select(i => new TemplatePost(
            i,
            $"Japan & South Korea tighten export controls on \"dual-use\" goods, part {i}",
            $"https://blog.example/2024/06/export-controls-{i}.html",
            string.Concat(Enumerable.Repeat("The cabinet approved measures on <semiconductors> & machine tools. ", 5)),
            ["sanctions", "japan-politics"],
            new DateTimeOffset(2024, 6, 25, 10 + (i % 10), 0, 0, TimeSpan.Zero),
            "Kenji Sato")),
    ];

    public static SubscriberLinks Links(int subscriber) => new(
        $"https://news.example/subscriber/preferences?id={subscriber}&token=3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f",
        $"https://news.example/subscriber/unsubscribe?id={subscriber}&token=3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f");
}
