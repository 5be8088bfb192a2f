namespace NewsBot.Benchmarks;

public static class Corpus
{
    public static string Root { get; } = FindCorpus();

    public static string GiantBomb => Path.Combine(Root, "large", "rss-parser", "giantbomb-podcast.rss");

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewsBot.sln")))
            {
                var corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return Directory.Exists(corpus) ? corpus : throw new DirectoryNotFoundException("the benchmarks need the shared corpus at " + corpus);
            }
        }

        throw new DirectoryNotFoundException("NewsBot.sln not found above " + AppContext.BaseDirectory);
    }
}
