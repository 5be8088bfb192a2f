namespace NewsBot.Benchmarks;

public static class Corpus
{
    // Found on first use: the email benchmark needs the repository but not the corpus.
    private static readonly Lazy<string> FoundRoot = new(FindCorpus);

    public static string Root => FoundRoot.Value;

    public static string GiantBomb => Path.Combine(Root, "large", "rss-parser", "giantbomb-podcast.rss");

    /// <summary>The folder that holds NewsBot.sln, above the benchmark's binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewsBot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("NewsBot.sln not found above " + AppContext.BaseDirectory);
    }

    private static string FindCorpus()
    {
        var corpus = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "corpus"));
        return Directory.Exists(corpus) ? corpus : throw new DirectoryNotFoundException("the benchmarks need the shared corpus at " + corpus);
    }
}
