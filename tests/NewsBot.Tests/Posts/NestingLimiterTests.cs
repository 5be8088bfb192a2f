using NewsBot.Posts;

namespace NewsBot.Tests.Posts;

public sealed class NestingLimiterTests
{
    [Fact]
    public void LimitNesting_KeepsShallowMarkupUntouched()
    {
        var html = string.Concat(Enumerable.Repeat("<p>para <b>bold</b><br>", 1_000));

        Assert.Equal(html, NestingLimiter.LimitNesting(html, 16));
    }

    [Fact]
    public void LimitNesting_RemovesTagsBelowTheLimitAndKeepsTheirText()
    {
        var html = string.Concat(Enumerable.Range(1, 40).Select(i => $"<div>{i} ")) + string.Concat(Enumerable.Repeat("</div>", 40));

        var limited = NestingLimiter.LimitNesting(html, 16);

        Assert.Equal(16, CountOf(limited, "<div>"));
        Assert.Equal(16, CountOf(limited, "</div>"));
        Assert.Equal(string.Join(' ', Enumerable.Range(1, 40)) + " ", limited.Replace("<div>", "", StringComparison.Ordinal).Replace("</div>", "", StringComparison.Ordinal));
    }

    [Fact]
    public void LimitNesting_DoesNotCountVoidOrOptionalEndTagElements()
    {
        var html = "<ul>" + string.Concat(Enumerable.Repeat("<li><p>item<br><img src=\"i.png\">", 100)) + "</ul>";

        Assert.Equal(html, NestingLimiter.LimitNesting(html, 16));
    }

    [Fact]
    public void LimitNesting_DropsScriptBelowTheLimitWithItsContent()
    {
        var html = string.Concat(Enumerable.Repeat("<span>", 20)) + "<script>if (a <b) alert('</span>')</script>text";

        var limited = NestingLimiter.LimitNesting(html, 16);

        Assert.DoesNotContain("alert", limited, StringComparison.Ordinal);
        Assert.EndsWith("text", limited, StringComparison.Ordinal);
    }

    [Fact]
    public void LimitNesting_SkipsQuotedGreaterThanInAttributes()
    {
        var html = string.Concat(Enumerable.Repeat("<i title=\"a>b\">", 20)) + "end";

        var limited = NestingLimiter.LimitNesting(html, 16);

        Assert.Equal(string.Concat(Enumerable.Repeat("<i title=\"a>b\">", 16)) + "end", limited);
    }

    private static int CountOf(string text, string value) =>
        (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;
}
