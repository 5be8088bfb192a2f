namespace NewsBot.Templates;

/// <summary>What a message is rendered for: Telegram's HTML subset, an email's HTML part, or its plain-text part.</summary>
public enum MessageFormat { Telegram, EmailHtml, EmailText }

/// <summary>A post as every template sees it (documented in templates/README.md).</summary>
public sealed record TemplatePost(long Id, string Title, string? Url, string Summary, IReadOnlyList<string> Topics, DateTimeOffset? Published, string? Author);

/// <summary>The window a digest covers.</summary>
public sealed record DigestPeriod(string Cadence, DateTimeOffset From, DateTimeOffset To);

/// <summary>The links that differ per recipient; spliced into a message rendered once for all.</summary>
public sealed record SubscriberLinks(string PreferencesUrl, string UnsubscribeUrl);
