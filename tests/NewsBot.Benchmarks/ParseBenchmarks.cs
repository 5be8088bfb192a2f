using System.ServiceModel.Syndication;
using System.Xml;

using BenchmarkDotNet.Attributes;

using NewsBot.Feeds;

namespace NewsBot.Benchmarks;

/// <summary>
/// Parse giantbomb-podcast.rss (1.6 MB, 730 items) into a post model, before sanitizing. Target for NewsBot's
/// parser: at most 25 ms and at most 3x the file's size allocated. The two candidates run on the same bytes.
/// </summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private byte[] feed = [];

    [GlobalSetup]
    public void LoadFeed() => feed = File.ReadAllBytes(Corpus.GiantBomb);

    [Benchmark(Baseline = true)]
    public int NewsBotFeedParser() => FeedParser.Parse(feed, "application/rss+xml").Items.Count;

    [Benchmark]
    public int SyndicationFeed()
    {
        using var stream = new MemoryStream(feed);
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return System.ServiceModel.Syndication.SyndicationFeed.Load(reader).Items.Count();
    }

    [Benchmark]
    public int CodeHollowFeedReader() => CodeHollow.FeedReader.FeedReader.ReadFromByteArray(feed).Items.Count;
}
