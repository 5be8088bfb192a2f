namespace NewsBot.Templates;

/// <summary>
/// A message rendered once for every recipient of a send. The subscriber's own links were rendered as placeholder
/// tokens whose positions are found once here; <see cref="Personalise"/> splices each recipient's links in with one
/// allocation of the exact length, instead of running the template again per recipient.
/// </summary>
public sealed class RenderedMessage
{
    private readonly string[] parts;
    private readonly bool[] isUnsubscribe;
    private readonly bool escapeHtml;
    private readonly int fixedLength;

    internal RenderedMessage(string subject, string body, MessageFormat format, string preferencesToken, string unsubscribeToken)
    {
        Subject = subject;
        Body = body;
        Format = format;
        escapeHtml = format != MessageFormat.EmailText;
        var pieces = new List<string>();
        var slots = new List<bool>();
        var start = 0;
        while (true)
        {
            var preferences = body.IndexOf(preferencesToken, start, StringComparison.Ordinal);
            var unsubscribe = body.IndexOf(unsubscribeToken, start, StringComparison.Ordinal);
            if (preferences < 0 && unsubscribe < 0)
            {
                break;
            }

            var takeUnsubscribe = preferences < 0 || (unsubscribe >= 0 && unsubscribe < preferences);
            var at = takeUnsubscribe ? unsubscribe : preferences;
            pieces.Add(body[start..at]);
            slots.Add(takeUnsubscribe);
            start = at + (takeUnsubscribe ? unsubscribeToken.Length : preferencesToken.Length);
        }

        pieces.Add(body[start..]);
        parts = [.. pieces];
        isUnsubscribe = [.. slots];
        fixedLength = pieces.Sum(p => p.Length);
    }

    /// <summary>A message rendered earlier (possibly by another process) and stored with its placeholder links.</summary>
    public static RenderedMessage FromStored(string subject, string body, MessageFormat format) =>
        new(subject, body, format, TemplateRenderer.PreferencesToken, TemplateRenderer.UnsubscribeToken);

    /// <summary>The email subject (plain text, one line); for Telegram, the same line, unused by the channel.</summary>
    public string Subject { get; }

    /// <summary>The body as rendered, with placeholder tokens where the subscriber's links go: send <see cref="Personalise"/>'s result.</summary>
    public string Body { get; }

    public MessageFormat Format { get; }

    /// <summary>How many subscriber links the body holds.</summary>
    public int LinkCount => isUnsubscribe.Length;

    /// <summary>The body with this recipient's links, escaped as the template would have escaped them.</summary>
    /// <exception cref="ArgumentException">A link that is not an absolute http(s) URL.</exception>
    public string Personalise(SubscriberLinks links)
    {
        if (isUnsubscribe.Length == 0)
        {
            return Body;
        }

        var preferences = PrepareLink(links.PreferencesUrl, nameof(links.PreferencesUrl));
        var unsubscribe = PrepareLink(links.UnsubscribeUrl, nameof(links.UnsubscribeUrl));
        var capacity = fixedLength;
        foreach (var slot in isUnsubscribe)
        {
            capacity += slot ? unsubscribe.Length : preferences.Length;
        }

        // The length is known exactly, so the result is written in place: one allocation, no builder copy.
        return string.Create(capacity, (this, preferences, unsubscribe), static (target, state) =>
        {
            var (message, preferences, unsubscribe) = state;
            var at = 0;
            for (var i = 0; i < message.isUnsubscribe.Length; i++)
            {
                message.parts[i].CopyTo(target[at..]);
                at += message.parts[i].Length;
                var link = message.isUnsubscribe[i] ? unsubscribe : preferences;
                link.CopyTo(target[at..]);
                at += link.Length;
            }

            message.parts[^1].CopyTo(target[at..]);
        });
    }

    private string PrepareLink(string url, string name)
    {
        if (HtmlText.SafeUrl(url) != url)
        {
            throw new ArgumentException($"SubscriberLinks.{name} '{url}' is not an absolute http(s) URL", name);
        }

        return escapeHtml ? HtmlText.Escape(url) : url;
    }
}
