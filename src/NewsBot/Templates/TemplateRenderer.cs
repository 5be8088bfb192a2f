using System.Globalization;
using System.Text;

using Scriban;
using Scriban.Parsing;
using Scriban.Runtime;
using Scriban.Syntax;

namespace NewsBot.Templates;

/// <summary>
/// Renders posts and digests from the Scriban templates in <c>templates/</c> (bundled next to the binary), each
/// replaceable by a file of the same name in <see cref="TemplateOptions.Folder"/>. All templates are parsed, and
/// rendered once with a sample model, at construction, so a broken template stops the start. The model is
/// documented in templates/README.md.
/// </summary>
public sealed class TemplateRenderer
{
    /// <summary>Bot API sendMessage: "1-4096 characters after entities parsing".</summary>
    public const int TelegramMaxLength = 4096;

    /// <summary>
    /// A Telegram digest is at most this many messages; the last one counts the posts left out. Ten messages at one
    /// a second per chat (Bot API FAQ) is the longest burst a reader should get from one digest.
    /// </summary>
    public const int TelegramMaxDigestParts = 10;

    /// <summary>Every template NewsBot renders; an override folder may hold only these names.</summary>
    public static readonly IReadOnlyList<string> TemplateNames =
    [
        "post.telegram.sbn", "post.email.html.sbn", "post.email.txt.sbn",
        "digest.telegram.sbn", "digest.email.html.sbn", "digest.email.txt.sbn",
        "subject.post.sbn", "subject.digest.sbn",
        .. PageTemplates.Names, PageTemplates.Layout,
        PageTemplates.ConfirmationHtml, PageTemplates.ConfirmationText, PageTemplates.ConfirmationSubject,
    ];

    private static readonly ScriptObject Functions = CreateFunctions();

    // Scriban's default context builds its builtins (string, array, date, html...) anew: ~0.1 ms per render.
    // Shared read-only instead; a template cannot assign into them.
    private static readonly ScriptObject Builtins = CreateBuiltins();

    private readonly Dictionary<string, (Template Template, string Path)> templates;
    private readonly ScriptObject site;

    // Fixed, because rendered bodies are stored (send_messages) and personalised by another process after a
    // restart; shaped as https URLs so that safe_url keeps them and escaping leaves them alone. RFC 2606 §2:
    // .invalid never resolves, so no real link in a post can be one of them.
    public const string PreferencesToken = "https://newsbot.invalid/subscriber/preferences";
    public const string UnsubscribeToken = "https://newsbot.invalid/subscriber/unsubscribe";

    /// <exception cref="TemplateException">A template is missing, does not parse, or fails on the sample model; every error is listed.</exception>
    public TemplateRenderer(TemplateOptions options)
    {
        site = new ScriptObject { ["name"] = options.SiteName, ["url"] = options.PublicBaseUrl };
        site.IsReadOnly = true;
        templates = LoadTemplates(BundledFolder, options.Folder);
        CheckWithSample();
    }

    public static string BundledFolder => Path.Combine(AppContext.BaseDirectory, "templates");

    /// <summary>One post, as it comes (instant cadence).</summary>
    public RenderedMessage RenderPost(TemplatePost post, MessageFormat format) =>
        RenderPost(post, format, links: null);

    /// <summary>
    /// A digest of <paramref name="posts"/>, in the given order: one message for email. A Telegram digest longer
    /// than <see cref="TelegramMaxLength"/> is split at post boundaries into several messages (the template's
    /// <c>part</c> of <c>parts</c>), each valid on its own, so no tag or entity is ever cut. Beyond
    /// <see cref="TelegramMaxDigestParts"/> messages the last one says "and N more" (the template's <c>more</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="posts"/> is empty: an empty digest is never sent.</exception>
    public IReadOnlyList<RenderedMessage> RenderDigest(IReadOnlyList<TemplatePost> posts, DigestPeriod period, MessageFormat format) =>
        RenderDigest(posts, period, format, links: null);

    /// <summary>
    /// One post for a configured Telegram channel or group: <c>broadcast</c> is true and <c>subscriber</c> null, as
    /// its readers are no subscribers of ours and could not use personal links. The result holds no placeholders.
    /// </summary>
    public RenderedMessage RenderBroadcastPost(TemplatePost post) =>
        RenderPost(post, MessageFormat.Telegram, links: null, broadcast: true);

    /// <summary>Renders with the recipient's links in place (no placeholders): what <see cref="RenderedMessage.Personalise"/> must equal.</summary>
    internal RenderedMessage RenderPost(TemplatePost post, MessageFormat format, SubscriberLinks? links, bool broadcast = false)
    {
        ScriptObject Model(TemplatePost p) => ForAudience(CreateModel([p], post, null, Slice.Whole(1), links), broadcast);
        var subject = RenderSubject("subject.post.sbn", Model(post));
        var name = BodyTemplate("post", format);
        var body = Render(name, Model(post), format);
        if (format == MessageFormat.Telegram && HtmlText.VisibleLength(body) > TelegramMaxLength)
        {
            body = Render(name, Model(ShortenSummary(post, body)), format);
        }

        return new RenderedMessage(subject, body, format, PreferencesToken, UnsubscribeToken);
    }

    internal IReadOnlyList<RenderedMessage> RenderDigest(IReadOnlyList<TemplatePost> posts, DigestPeriod period, MessageFormat format, SubscriberLinks? links)
    {
        if (posts.Count == 0)
        {
            throw new ArgumentException("A digest needs at least one post: an empty digest is never sent", nameof(posts));
        }

        var subject = RenderSubject("subject.digest.sbn", CreateModel(posts, null, period, Slice.Whole(posts.Count), links));
        var name = BodyTemplate("digest", format);
        var body = Render(name, CreateModel(posts, null, period, Slice.Whole(posts.Count), links), format);
        if (format != MessageFormat.Telegram || HtmlText.VisibleLength(body) <= TelegramMaxLength)
        {
            return [new RenderedMessage(subject, body, format, PreferencesToken, UnsubscribeToken)];
        }

        return SplitTelegramDigest(name, posts, period, links)
            .Select(part => new RenderedMessage(subject, part, format, PreferencesToken, UnsubscribeToken))
            .ToList();
    }

    /// <summary>
    /// Cuts the posts into runs, each the longest that fits one message, by binary search over the run's length
    /// (each probe is one render). The parts are fitted while the template is told the largest part count the
    /// split can reach, then rendered with the real count; a template whose part grows when the count shrinks is
    /// fitted again with the count it produced.
    /// </summary>
    private List<string> SplitTelegramDigest(string name, IReadOnlyList<TemplatePost> posts, DigestPeriod period, SubscriberLinks? links)
    {
        var partsGuess = Math.Min(posts.Count, TelegramMaxDigestParts);
        var bodies = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var runs = new List<(int Start, int Count, TemplatePost? Shortened)>();
            for (var start = 0; start < posts.Count && runs.Count < TelegramMaxDigestParts;)
            {
                var run = FitRun(name, posts, start, new Slice(runs.Count + 1, partsGuess, 0, posts.Count), period, links);
                runs.Add(run);
                start += run.Count;
            }

            var end = runs[^1].Start + runs[^1].Count;
            bodies = runs.Select((run, i) => Render(name, CreateRunModel(posts, run, new Slice(i + 1, runs.Count, i == runs.Count - 1 ? posts.Count - end : 0, posts.Count), period, links), MessageFormat.Telegram)).ToList();
            if (bodies.All(b => HtmlText.VisibleLength(b) <= TelegramMaxLength))
            {
                return bodies;
            }

            partsGuess = runs.Count;
        }

        // Only a title longer than a message (only the summary is shortened), or an override template whose part
        // grows as the count shrinks, gets here: Telegram refuses that part, and the ledger records why.
        return bodies;
    }

    /// <summary>
    /// The longest run of posts from <paramref name="start"/> that fits one message. The last allowed part counts
    /// the posts left out as <c>more</c>. When not even one post fits, that post's summary is shortened.
    /// </summary>
    private (int Start, int Count, TemplatePost? Shortened) FitRun(string name, IReadOnlyList<TemplatePost> posts, int start, Slice slice, DigestPeriod period, SubscriberLinks? links)
    {
        var lastPart = slice.Part == TelegramMaxDigestParts;
        var best = 0;
        int low = 1, high = posts.Count - start;
        while (low <= high)
        {
            var count = (low + high) / 2;
            var probe = slice with { More = lastPart ? posts.Count - start - count : 0 };
            var body = Render(name, CreateRunModel(posts, (start, count, null), probe, period, links), MessageFormat.Telegram);
            if (HtmlText.VisibleLength(body) <= TelegramMaxLength)
            {
                best = count;
                low = count + 1;
            }
            else
            {
                high = count - 1;
            }
        }

        if (best > 0)
        {
            return (start, best, null);
        }

        // Not even one post fits: shorten its summary, which is plain text before escaping.
        var single = slice with { More = lastPart ? posts.Count - start - 1 : 0 };
        var tooLong = Render(name, CreateRunModel(posts, (start, 1, null), single, period, links), MessageFormat.Telegram);
        return (start, 1, ShortenSummary(posts[start], tooLong));
    }

    private ScriptObject CreateRunModel(IReadOnlyList<TemplatePost> posts, (int Start, int Count, TemplatePost? Shortened) run, Slice slice, DigestPeriod period, SubscriberLinks? links)
    {
        var selected = posts.Skip(run.Start).Take(run.Count).ToList();
        if (run.Shortened is { } shortened)
        {
            selected[0] = shortened;
        }

        return CreateModel(selected, null, period, slice, links);
    }

    private static TemplatePost ShortenSummary(TemplatePost post, string tooLong)
    {
        // Each summary character shows as one character (escaped or not), so cutting the overflow is enough.
        var keep = Math.Max(0, post.Summary.Length - (HtmlText.VisibleLength(tooLong) - TelegramMaxLength) - 1);
        if (keep > 0 && char.IsHighSurrogate(post.Summary[keep - 1]))
        {
            keep--;
        }

        return post with { Summary = post.Summary[..keep] + "…" };
    }

    private static string BodyTemplate(string kind, MessageFormat format) => format switch
    {
        MessageFormat.Telegram => $"{kind}.telegram.sbn",
        MessageFormat.EmailHtml => $"{kind}.email.html.sbn",
        MessageFormat.EmailText => $"{kind}.email.txt.sbn",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown message format"),
    };

    /// <summary>The one model every template sees (templates/README.md).</summary>
    private ScriptObject CreateModel(IReadOnlyList<TemplatePost> posts, TemplatePost? post, DigestPeriod? period, Slice slice, SubscriberLinks? links)
    {
        var items = new ScriptArray(posts.Count);
        foreach (var p in posts)
        {
            items.Add(CreatePost(p));
        }

        return new ScriptObject
        {
            ["posts"] = items,
            ["post"] = post is null ? null : items.Count == 1 ? items[0] : CreatePost(post),
            ["period"] = period is null ? null : new ScriptObject
            {
                ["cadence"] = period.Cadence,
                ["from"] = FormatDay(period.From),
                ["to"] = FormatDay(period.To),
                ["range"] = FormatRange(period.From, period.To),
            },
            ["more"] = slice.More,
            ["total"] = slice.Total,
            ["part"] = slice.Part,
            ["parts"] = slice.Parts,
            ["site"] = site,
            ["broadcast"] = false,
            ["subscriber"] = new ScriptObject
            {
                ["preferences_url"] = links?.PreferencesUrl ?? PreferencesToken,
                ["unsubscribe_url"] = links?.UnsubscribeUrl ?? UnsubscribeToken,
            },
        };
    }

    /// <summary>A broadcast has no subscriber: a template that writes the links without checking fails the start check.</summary>
    private static ScriptObject ForAudience(ScriptObject model, bool broadcast)
    {
        if (broadcast)
        {
            model["broadcast"] = true;
            model["subscriber"] = null;
        }

        return model;
    }

    private static ScriptObject CreatePost(TemplatePost post) => new()
    {
        ["id"] = post.Id,
        ["title"] = post.Title,
        ["url"] = post.Url,
        ["summary"] = post.Summary,
        ["topics"] = new ScriptArray(post.Topics),
        ["published"] = post.Published is { } published ? FormatDay(published) : null,
        ["author"] = post.Author,
    };

    /// <summary>"26 Jun 2024", the UTC date: the same for every recipient, so a message renders once for all.</summary>
    public static string FormatDay(DateTimeOffset value) => value.UtcDateTime.ToString("d MMM yyyy", CultureInfo.InvariantCulture);

    /// <summary>"30 Nov 2026 18:00 UTC": a moment for a reader, such as when a link stops working.</summary>
    public static string FormatTime(DateTimeOffset value) => value.UtcDateTime.ToString("d MMM yyyy HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>"20–26 Jun 2024", "30 May – 5 Jun 2024", "30 Dec 2024 – 5 Jan 2025", or one day.</summary>
    public static string FormatRange(DateTimeOffset from, DateTimeOffset to)
    {
        DateTime a = from.UtcDateTime.Date, b = to.UtcDateTime.Date;
        if (a == b)
        {
            return FormatDay(from);
        }

        if (a.Year != b.Year)
        {
            return $"{FormatDay(from)} – {FormatDay(to)}";
        }

        return a.Month == b.Month
            ? $"{a.Day}–{FormatDay(to)}"
            : $"{a.ToString("d MMM", CultureInfo.InvariantCulture)} – {FormatDay(to)}";
    }

    private string RenderSubject(string name, ScriptObject model)
    {
        var text = Render(name, model, MessageFormat.EmailText);
        return string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    private string Render(string name, ScriptObject model, MessageFormat format)
    {
        var (template, path) = templates[name];
        var context = new MessageContext(Builtins, escapeHtml: format != MessageFormat.EmailText)
        {
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
            LoopLimit = 10_000,
            MemberRenamer = StandardMemberRenamer.Default,
        };
        context.PushGlobal(Functions);
        context.PushGlobal(model);
        try
        {
            return template.Render(context);
        }
        catch (ScriptRuntimeException e)
        {
            throw new TemplateException($"{Describe(path, e.Span)}: {e.OriginalMessage}");
        }
    }

    /// <summary>
    /// A web page: <paramref name="name"/> (one of <see cref="PageTemplates.Names"/>) renders the content with
    /// <c>page</c> (escaped as HTML) and may set <c>title</c>; the layout then wraps it.
    /// </summary>
    public string RenderPage(string name, object page)
    {
        if (!PageTemplates.Names.Contains(name))
        {
            throw new ArgumentException($"'{name}' is not a page template (one of {string.Join(", ", PageTemplates.Names)})", nameof(name));
        }

        var model = new ScriptObject { ["site"] = site, ["page"] = page, ["title"] = site["name"] };
        var content = Render(name, model, MessageFormat.EmailHtml);
        var layout = new ScriptObject { ["site"] = site, ["title"] = model["title"], ["content"] = new RawHtml(content) };
        return Render(PageTemplates.Layout, layout, MessageFormat.EmailHtml);
    }

    /// <summary>The double opt-in mail: subject, HTML part and plain-text part, each from its template.</summary>
    public ConfirmationMessage RenderConfirmation(ConfirmationEmail confirmation)
    {
        var model = new ScriptObject { ["site"] = site, ["confirmation"] = confirmation };
        return new ConfirmationMessage(
            RenderSubject(PageTemplates.ConfirmationSubject, model),
            Render(PageTemplates.ConfirmationHtml, model, MessageFormat.EmailHtml),
            Render(PageTemplates.ConfirmationText, model, MessageFormat.EmailText));
    }

    /// <summary>Renders every template with a sample digest and post, so runtime errors (an unknown variable) also stop the start.</summary>
    private void CheckWithSample()
    {
        var errors = new List<string>();
        var post = new TemplatePost(1, "Sample <post> & \"title\"", "https://example.org/post", "A sample summary.", ["sample"], new DateTimeOffset(2024, 6, 26, 9, 0, 0, TimeSpan.Zero), "Author");
        var period = new DigestPeriod("daily", new DateTimeOffset(2024, 6, 25, 9, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 6, 26, 9, 0, 0, TimeSpan.Zero));
        foreach (var (name, page) in PageTemplates.Samples)
        {
            try
            {
                RenderPage(name, page);
            }
            catch (TemplateException e)
            {
                errors.Add(e.Message);
            }
        }

        foreach (var confirmation in PageTemplates.ConfirmationSamples)
        {
            try
            {
                RenderConfirmation(confirmation);
            }
            catch (TemplateException e)
            {
                errors.Add(e.Message);
            }
        }

        foreach (var name in TemplateNames.Where(n => n.StartsWith("post.", StringComparison.Ordinal) || n.StartsWith("digest.", StringComparison.Ordinal)
            || n is "subject.post.sbn" or "subject.digest.sbn"))
        {
            var kind = name.Split('.')[name.StartsWith("subject.", StringComparison.Ordinal) ? 1 : 0];
            var format = name.Contains(".telegram.", StringComparison.Ordinal) ? MessageFormat.Telegram
                : name.Contains(".html.", StringComparison.Ordinal) ? MessageFormat.EmailHtml : MessageFormat.EmailText;
            var model = kind == "post"
                ? CreateModel([post], post, null, Slice.Whole(1), null)
                : CreateModel([post, post with { Id = 2 }], null, period, new Slice(2, 2, 1, 3), null);
            try
            {
                Render(name, model, format);
                if (name == "post.telegram.sbn")
                {
                    Render(name, ForAudience(CreateModel([post], post, null, Slice.Whole(1), null), broadcast: true), format);
                }
            }
            catch (TemplateException e)
            {
                errors.Add(e.Message);
            }
        }

        if (errors.Count > 0)
        {
            throw new TemplateException(string.Join(Environment.NewLine, errors.Distinct()));
        }
    }

    /// <summary>Reads and parses every template; the override folder wins per file name.</summary>
    private static Dictionary<string, (Template Template, string Path)> LoadTemplates(string bundledFolder, string? overrideFolder)
    {
        var errors = new List<string>();
        var loaded = new Dictionary<string, (Template, string)>(StringComparer.Ordinal);
        if (overrideFolder is not null)
        {
            if (!Directory.Exists(overrideFolder))
            {
                throw new TemplateException($"{TemplateOptions.Section}:Folder '{overrideFolder}' does not exist");
            }

            foreach (var file in Directory.EnumerateFiles(overrideFolder, "*.sbn").Order(StringComparer.Ordinal))
            {
                if (!TemplateNames.Contains(Path.GetFileName(file)))
                {
                    errors.Add($"{file}: not a template NewsBot renders (one of {string.Join(", ", TemplateNames)})");
                }
            }
        }

        foreach (var name in TemplateNames)
        {
            var path = overrideFolder is not null && File.Exists(Path.Combine(overrideFolder, name))
                ? Path.Combine(overrideFolder, name)
                : Path.Combine(bundledFolder, name);
            if (!File.Exists(path))
            {
                errors.Add($"{path}: the template is missing");
                continue;
            }

            var template = Template.Parse(File.ReadAllText(path), path);
            if (template.HasErrors)
            {
                errors.AddRange(template.Messages.Where(m => m.Type == ParserMessageType.Error).Select(m => $"{Describe(path, m.Span)}: {m.Message}"));
                continue;
            }

            loaded[name] = (template, path);
        }

        if (errors.Count > 0)
        {
            throw new TemplateException(string.Join(Environment.NewLine, errors));
        }

        return loaded;
    }

    /// <summary><c>path(line,col)</c>, one-based as editors count (Scriban's spans are zero-based).</summary>
    private static string Describe(string path, SourceSpan span) => $"{path}({span.Start.Line + 1},{span.Start.Column + 1})";

    private static ScriptObject CreateFunctions()
    {
        var functions = new ScriptObject();
        functions.Import("raw", new Func<object?, RawHtml>(value => new RawHtml(value?.ToString() ?? "")));
        functions.Import("safe_url", new Func<string?, string>(HtmlText.SafeUrl));
        functions.IsReadOnly = true;
        return functions;
    }

    private static ScriptObject CreateBuiltins()
    {
        var builtins = TemplateContext.GetDefaultBuiltinObject();
        foreach (var member in builtins.Values.OfType<ScriptObject>())
        {
            member.IsReadOnly = true;
        }

        builtins.IsReadOnly = true;
        return builtins;
    }

    /// <summary>Which part of a digest a message is: <c>part</c> of <c>parts</c>, <c>more</c> posts left out, <c>total</c> posts in all.</summary>
    private sealed record Slice(int Part, int Parts, int More, int Total)
    {
        public static Slice Whole(int total) => new(1, 1, 0, total);
    }

    /// <summary>A value a template marked with <c>raw</c>: written as it is, in every format.</summary>
    private sealed record RawHtml(string Value)
    {
        public override string ToString() => Value;
    }

    /// <summary>
    /// Scriban escapes nothing; for the HTML formats every value an expression writes (<c>{{ x }}</c>) goes
    /// through <see cref="HtmlText.Escape"/> here, unless it is <see cref="RawHtml"/>. Literal template text
    /// does not pass through this method.
    /// </summary>
    private sealed class MessageContext(ScriptObject builtins, bool escapeHtml) : TemplateContext(builtins)
    {
        public override TemplateContext Write(SourceSpan span, object? textAsObject)
        {
            if (textAsObject is null)
            {
                return this;
            }

            if (textAsObject is RawHtml raw)
            {
                Write(raw.Value);
                return this;
            }

            var text = ObjectToString(textAsObject);
            Write(escapeHtml ? HtmlText.Escape(text) : text);
            return this;
        }

        public override string ObjectToString(object? value, bool nested = false) =>
            value is RawHtml raw ? raw.Value : base.ObjectToString(value, nested) ?? "";
    }
}
