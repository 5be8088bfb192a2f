namespace NewsBot.Templates;

/// <summary>The <c>NewsBot:Templates</c> section.</summary>
public sealed class TemplateOptions
{
    public const string Section = "NewsBot:Templates";

    /// <summary>A folder whose <c>*.sbn</c> files replace the bundled templates of the same name; null for none.</summary>
    public string? Folder { get; set; }

    /// <summary>The name templates show as <c>site.name</c>.</summary>
    public string SiteName { get; set; } = "NewsBot";

    /// <summary>The public address of this service (<c>site.url</c>); subscriber links are built on it.</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";
}
