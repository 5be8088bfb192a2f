namespace NewsBot.Posts;

/// <summary>An entry's sanitized HTML and its one-line plain-text summary.</summary>
public sealed record SanitizedContent(string Html, string Summary);
