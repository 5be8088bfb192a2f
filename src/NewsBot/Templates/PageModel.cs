namespace NewsBot.Templates;

/// <summary>The subscription pages' templates and the <c>page</c> each one sees (templates/README.md).</summary>
public static class PageTemplates
{
    public const string Layout = "page.layout.html.sbn";
    public const string Subscribe = "page.subscribe.html.sbn";
    public const string Confirm = "page.confirm.html.sbn";
    public const string Preferences = "page.preferences.html.sbn";
    public const string Unsubscribe = "page.unsubscribe.html.sbn";
    public const string Message = "page.message.html.sbn";
    public const string ConfirmationHtml = "confirm.email.html.sbn";
    public const string ConfirmationText = "confirm.email.txt.sbn";
    public const string ConfirmationSubject = "subject.confirm.sbn";

    /// <summary>The pages <see cref="TemplateRenderer.RenderPage"/> renders inside <see cref="Layout"/>.</summary>
    public static readonly IReadOnlyList<string> Names = [Subscribe, Confirm, Preferences, Unsubscribe, Message];

    /// <summary>Every kind of <see cref="MessagePage"/>; the message template has a text for each.</summary>
    public static readonly IReadOnlyList<string> MessageKinds =
    [
        "check-inbox", "confirmed", "already-confirmed", "unsubscribed", "already-unsubscribed",
        "link-malformed", "link-forged", "link-wrong-purpose", "link-expired", "subscription-ended", "subscription-missing",
        "one-click-body", "not-a-form", "form-expired", "rate-limited",
    ];

    private static readonly TopicChoice[] SampleTopics = [new("sample", true), new("other <topic>", false)];

    /// <summary>Rendered at start, so a page template that fails on its model stops the start, not a visitor.</summary>
    internal static IEnumerable<(string Name, object Page)> Samples =>
    [
        (Subscribe, new SubscribePage("https://example.org/subscribe", "csrf", "", SampleTopics, "instant", null, null)),
        (Subscribe, new SubscribePage("https://example.org/subscribe", "csrf", "a@example.org", SampleTopics, "daily", "invalid-email", "a@")),
        (Confirm, new ConfirmPage("https://example.org/confirm?t=x", "csrf", "a@example.org", ["sample"], "weekly")),
        (Preferences, new PreferencesPage("https://example.org/preferences?t=x", "csrf", "a@example.org", "active", SampleTopics, "daily", "https://example.org/unsubscribe?t=y", true)),
        (Preferences, new PreferencesPage("https://example.org/preferences?t=x", "csrf", "a@example.org", "unsubscribed", SampleTopics, "instant", "https://example.org/unsubscribe?t=y", false, "unknown-topic", "x")),
        (Unsubscribe, new UnsubscribePage("https://example.org/unsubscribe?t=y", "a@example.org")),
        .. MessageKinds.Select(kind => (Message, (object)new MessagePage(kind, "detail <b>", "https://example.org/preferences?t=x"))),
    ];

    internal static IEnumerable<ConfirmationEmail> ConfirmationSamples =>
    [
        new("a@example.org", "https://example.org/confirm?t=x", "https://example.org/preferences?t=y", ["sample"], "daily", "30 Nov 2026 18:00 UTC"),
        new("a@example.org", null, "https://example.org/preferences?t=y", [], "instant", null),
    ];
}

/// <summary>A configured topic on a form, ticked or not.</summary>
public sealed record TopicChoice(string Name, bool Checked);

/// <param name="Error">A code the template explains (<c>invalid-email</c>, <c>line-break</c>, <c>unknown-topic</c>, <c>unknown-cadence</c>, <c>form-expired</c>); null when the form is fresh.</param>
/// <param name="Detail">The offending value, shown escaped.</param>
public sealed record SubscribePage(string Action, string Csrf, string Email, IReadOnlyList<TopicChoice> Topics, string Cadence, string? Error, string? Detail);

public sealed record ConfirmPage(string Action, string Csrf, string Email, IReadOnlyList<string> Topics, string Cadence);

/// <param name="Status">The channel's status: active, pending-confirmation, unsubscribed, blocked, bounced.</param>
/// <param name="Saved">True right after a save, for the "saved" notice.</param>
/// <param name="Error">As on <see cref="SubscribePage"/>; null when the form is fresh or saved.</param>
public sealed record PreferencesPage(
    string Action, string Csrf, string Email, string Status, IReadOnlyList<TopicChoice> Topics, string Cadence, string UnsubscribeAction, bool Saved,
    string? Error = null, string? Detail = null);

public sealed record UnsubscribePage(string Action, string Email);

/// <param name="Kind">One of <see cref="PageTemplates.MessageKinds"/>.</param>
public sealed record MessagePage(string Kind, string? Detail, string? PreferencesUrl);

/// <param name="ConfirmUrl">The signed, expiring link; null when the address is already subscribed (the mail then offers the preferences).</param>
/// <param name="Expires">When the link stops working, for the text (<c>30 Nov 2026 18:00 UTC</c>).</param>
public sealed record ConfirmationEmail(string Email, string? ConfirmUrl, string? PreferencesUrl, IReadOnlyList<string> Topics, string Cadence, string? Expires);

/// <summary>The rendered double opt-in mail.</summary>
public sealed record ConfirmationMessage(string Subject, string Html, string Text);
