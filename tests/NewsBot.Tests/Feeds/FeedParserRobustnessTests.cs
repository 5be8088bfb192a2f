using System.Text;

using NewsBot.Feeds;

using Xunit.Abstractions;

namespace NewsBot.Tests.Feeds;

/// <summary>Corpus files with seeded random damage: the parser may refuse them, but only with FeedFormatException.</summary>
public class FeedParserRobustnessTests(ITestOutputHelper output)
{
    private static readonly string[] Insertions =
    [
        "&#xD800;", "<![CDATA[", "&nbsp;", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "&#x110000;", "<media:group>", "\uFFFE", "\0", "&", "</",
    ];

    [SkippableFact]
    public void DamagedCorpusFiles_OnlyThrowFeedFormatException()
    {
        var root = TestPaths.RequireCorpus();
        var files = new[] { "feed-rs", "feedparser/illformed", "feedparser/encoding", "feedparser/wellformed/atom10", "feedparser/wellformed/rss", "blogger" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            .Where(path => Path.GetExtension(path) is ".xml" or ".json" or ".atom" or ".rss")
            .Order(StringComparer.Ordinal)
            .ToList();
        var random = new Random(20261128);
        var offenders = new List<string>();
        var rejected = 0;
        foreach (var path in files)
        {
            var original = File.ReadAllBytes(path);
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var damaged = Damage(original, random);
                try
                {
                    FeedParser.Parse(damaged, attempt == 1 ? "application/xml; charset=utf-16" : null, new Uri("http://example.test/feeds/"));
                }
                catch (FeedFormatException)
                {
                    rejected++;
                }
                catch (Exception e)
                {
                    offenders.Add($"{Path.GetRelativePath(root, path)} attempt {attempt}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        output.WriteLine($"{files.Count * 3} damaged documents, {rejected} rejected with FeedFormatException, {offenders.Count} offenders");
        offenders.ForEach(output.WriteLine);
        Assert.True(files.Count > 500, $"only {files.Count} files");
        Assert.True(rejected > 0, "no damaged document was rejected: the damage is not reaching the parser");
        Assert.Empty(offenders);
    }

    private static byte[] Damage(byte[] data, Random random)
    {
        var bytes = data.ToList();
        var count = random.Next(1, 8);
        for (var i = 0; i < count && bytes.Count > 0; i++)
        {
            var position = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[position] = (byte)"<>&;\"'/[]!?#x"[random.Next(13)];
                    break;
                case 2:
                    bytes.RemoveRange(position, bytes.Count - position);
                    break;
                default:
                    bytes.InsertRange(position, Encoding.UTF8.GetBytes(Insertions[random.Next(Insertions.Length)]));
                    break;
            }
        }

        return [.. bytes];
    }
}
