namespace NewsBot.Posts;

/// <summary>A post ready to store: sanitized, summarised, hashed and tagged by the refresh flow.</summary>
public sealed record NewPost(
    string Key,
    string? Url,
    string Title,
    string? Author,
    DateTimeOffset? Published,
    DateTimeOffset? Updated,
    IReadOnlyList<string> Labels,
    IReadOnlyList<string> Topics,
    string ContentHtml,
    string Summary,
    string ContentHash);

/// <summary>A stored post as every reader (CLI, templates, bot) sees it.</summary>
public sealed record Post(
    long Id,
    string Feed,
    string Key,
    string? Url,
    string Title,
    string? Author,
    DateTimeOffset? Published,
    DateTimeOffset? Updated,
    IReadOnlyList<string> Labels,
    IReadOnlyList<string> Topics,
    string ContentHtml,
    string Summary,
    DateTimeOffset FirstSeen);

/// <summary>What a save did: only <see cref="InsertedIds"/> are new and will ever be announced.</summary>
public sealed record SaveResult(IReadOnlyList<long> InsertedIds, int Updated, int Unchanged);
