using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

public sealed class SqlDialectTests
{
    [Theory]
    [InlineData("sanctions", "\"sanctions\"")]
    [InlineData("AND OR", "\"AND\" \"OR\"")]
    [InlineData("-x", "\"x\"")]
    [InlineData("\"unbalanced (paren", "\"unbalanced\" \"paren\"")]
    [InlineData("title:rust NEAR(a b)", "\"title\" \"rust\" \"NEAR\" \"a\" \"b\"")]
    [InlineData("prefix* ^start", "\"prefix\" \"start\"")]
    [InlineData("Überwachung café", "\"Überwachung\" \"café\"")]
    [InlineData("e-mail 2026", "\"e\" \"mail\" \"2026\"")]
    public void FormatSearchQuery_QuotesEveryWordAndDropsOperators(string words, string expected)
    {
        Assert.Equal(expected, SqlDialect.Sqlite.FormatSearchQuery(words));
    }

    [Theory]
    [InlineData("AND OR", "AND OR")]
    [InlineData("\"unbalanced (paren", "unbalanced paren")]
    [InlineData("title:rust NEAR(a b) -x !y & z | w <-> v", "title rust NEAR a b x y z w v")]
    [InlineData("Überwachung café", "Überwachung café")]
    public void FormatSearchQuery_Postgresql_KeepsOnlyWordsForPlaintoTsquery(string words, string expected)
    {
        Assert.Equal(expected, SqlDialect.Postgresql.FormatSearchQuery(words));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"")]
    [InlineData("*")]
    [InlineData("( ) - + ^ :")]
    [InlineData("🦀")]
    public void FormatSearchQuery_NothingSearchable_ReturnsNull(string words)
    {
        Assert.Null(SqlDialect.Sqlite.FormatSearchQuery(words));
        Assert.Null(SqlDialect.Postgresql.FormatSearchQuery(words));
    }
}
