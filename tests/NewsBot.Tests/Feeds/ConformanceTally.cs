using Xunit.Abstractions;

namespace NewsBot.Tests.Feeds;

/// <summary>Pass / applicable counts per corpus folder, with the first mismatches kept for the test output.</summary>
public sealed class ConformanceTally
{
    private readonly SortedDictionary<string, (int Passed, int Applicable)> _folders = new(StringComparer.Ordinal);
    private readonly List<string> _mismatches = [];

    public int Passed => _folders.Values.Sum(v => v.Passed);

    public int Applicable => _folders.Values.Sum(v => v.Applicable);

    public IReadOnlyList<string> Mismatches => _mismatches;

    public void Check(string folder, string what, object? expected, object? actual)
    {
        Record(folder, Equals(expected, actual), $"{what}: expected <{expected}> got <{actual}>");
    }

    public void Record(string folder, bool passed, string description)
    {
        var counts = _folders.GetValueOrDefault(folder);
        _folders[folder] = (counts.Passed + (passed ? 1 : 0), counts.Applicable + 1);
        if (!passed)
        {
            _mismatches.Add($"{folder}: {description}");
        }
    }

    public void Print(ITestOutputHelper output, int maxMismatches = 60)
    {
        foreach (var (folder, counts) in _folders)
        {
            output.WriteLine($"{folder}: {counts.Passed}/{counts.Applicable} passed");
        }

        output.WriteLine($"total: {Passed}/{Applicable} passed");
        foreach (var mismatch in _mismatches.Take(maxMismatches))
        {
            output.WriteLine("  MISMATCH " + mismatch);
        }
    }
}
