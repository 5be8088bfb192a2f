using System.Diagnostics;
using System.Globalization;

using NewsBot.Templates;

namespace NewsBot.Benchmarks.Templates;

/// <summary>
/// <c>-- personalise [N]</c>: a send of a 10-post email digest to N subscribers (default 100,000) on one core:
/// each variant (HTML, text) is rendered once, then every subscriber gets both parts personalised.
/// </summary>
public static class PersonaliseHarness
{
    public static void Run(int subscribers)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1;
        }

        var renderer = new TemplateRenderer(new TemplateOptions { SiteName = "Sample News", PublicBaseUrl = "https://news.example" });
        var posts = SampleDigest.Posts(10);
        var links = Enumerable.Range(1, subscribers).Select(SampleDigest.Links).ToArray();

        // Warm-up: JIT and Scriban's first-use caches.
        for (var i = 0; i < 2000; i++)
        {
            renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailHtml)[0].Personalise(links[i % links.Length]);
        }

        const int renders = 2000;
        var render = Stopwatch.StartNew();
        for (var i = 0; i < renders; i++)
        {
            renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailHtml);
        }

        var renderMicros = render.Elapsed.TotalMicroseconds / renders;

        var send = Stopwatch.StartNew();
        var html = renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailHtml)[0];
        var text = renderer.RenderDigest(posts, SampleDigest.Period, MessageFormat.EmailText)[0];
        long characters = 0;
        foreach (var link in links)
        {
            characters += html.Personalise(link).Length + text.Personalise(link).Length;
        }

        send.Stop();
        var perSecond = subscribers / send.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"full render of a 10-post HTML digest: {renderMicros:F1} µs ({html.Body.Length:N0} characters, {text.Body.Length:N0} as text)"));
        var telegram = Stopwatch.StartNew();
        var sixty = renderer.RenderDigest(SampleDigest.Posts(60), SampleDigest.Period, MessageFormat.Telegram);
        telegram.Stop();
        var longest = sixty.Max(part => HtmlText.VisibleLength(part.Body));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Telegram digest of 60 posts: split into {sixty.Count} messages (the longest {longest} characters after entity parsing) in {telegram.Elapsed.TotalMilliseconds:F1} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{subscribers:N0} personalised digests (HTML + text, 10 posts): {send.Elapsed.TotalMilliseconds:F0} ms, {perSecond:N0}/s on one core, {characters / (double)subscribers:N0} characters each"));
    }
}
