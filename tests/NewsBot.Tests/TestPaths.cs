namespace NewsBot.Tests;

/// <summary>
/// Where the repository and the shared corpus are. Tests that need <c>../shared/corpus</c> skip at run time
/// when it is missing, except under <c>CI=true</c>, where a missing corpus fails them.
/// </summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string CorpusRoot => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus"));

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The corpus folder, or a skip (a failure under CI) when it is not there.</summary>
    public static string RequireCorpus(string relative = "")
    {
        var path = Path.Combine(CorpusRoot, relative);
        var exists = Directory.Exists(path) || File.Exists(path);
        if (!exists && IsCi)
        {
            throw new InvalidOperationException($"CI=true but the shared corpus is missing at {path}");
        }

        Skip.IfNot(exists, $"shared corpus not found at {path}");
        return path;
    }

    /// <summary>
    /// The connection string of the PostgreSQL server for the store tests (<c>NEWSBOT_TEST_POSTGRES</c>, set by
    /// <c>.ci/postgres start</c>), or a skip (a failure under CI) when it is not set.
    /// </summary>
    public static string RequirePostgres()
    {
        var connectionString = Environment.GetEnvironmentVariable("NEWSBOT_TEST_POSTGRES");
        var set = !string.IsNullOrWhiteSpace(connectionString);
        if (!set && IsCi)
        {
            throw new InvalidOperationException("CI=true but NEWSBOT_TEST_POSTGRES is not set: .ci/run starts PostgreSQL with .ci/postgres");
        }

        Skip.IfNot(set, "NEWSBOT_TEST_POSTGRES is not set: run `eval \"$(.ci/postgres start)\"` to test the PostgreSQL provider");
        return connectionString!;
    }

    public static string Fixture(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", relative);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewsBot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NewsBot.sln not found above " + AppContext.BaseDirectory);
    }
}
