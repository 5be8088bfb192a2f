using NewsBot.Posts;

namespace NewsBot.Tests.Posts;

public sealed class StyleFilterTests
{
    [Theory]
    [InlineData("color: red", "color: red;")]
    [InlineData("COLOR:red;font-weight : bold ;", "COLOR: red; font-weight: bold ;")]
    [InlineData("font-family: \"Times New Roman\", serif", "font-family: \"Times New Roman\", serif;")]
    [InlineData("border: 1px solid rgb(0, 0, 0)", "border: 1px solid rgb(0, 0, 0);")]
    [InlineData("background: url( https://x.test/a.png ) yellow", "background: yellow;")]
    [InlineData("background-color: #fff; background-image: url(a.png)", "background-color: #fff;")]
    [InlineData("margin: 0 auto; padding: 1px 2px 3px 4px", "margin: 0 auto; padding: 1px 2px 3px 4px;")]
    [InlineData("border-top: 5px groove red", "")]
    [InlineData("position: fixed; z-index: 99", "")]
    [InlineData("color: red; : blue", "")]
    [InlineData("color red", "")]
    [InlineData("color: red;; color: blue", "")]
    [InlineData("color: expression(alert(1))", "")]
    [InlineData("color: red /* comment */", "")]
    [InlineData("color: \\72 ed", "")]
    [InlineData("x-y-z: 1", "")]
    [InlineData("", "")]
    public void FilterStyle_KeepsFeedparsersSafeSubset(string style, string expected)
    {
        Assert.Equal(expected, StyleFilter.FilterStyle(style));
    }

    [Fact]
    public void FilterStyle_FinishesOnPathologicalInput()
    {
        string[] styles =
        [
            string.Concat(Enumerable.Repeat("url(", 100_000)),
            string.Concat(Enumerable.Repeat("url(a b", 50_000)),
            new string('a', 300_000),
            string.Concat(Enumerable.Repeat("a-", 100_000)),
            string.Concat(Enumerable.Repeat("color: red; ", 30_000)),
        ];

        var results = styles.Select(StyleFilter.FilterStyle).ToArray();

        Assert.Equal(["", "", "", ""], results[..4]);
        Assert.Equal(30_000, results[4].Split(' ').Count(part => part == "color:"));
    }
}
