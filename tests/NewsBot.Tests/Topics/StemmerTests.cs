using NewsBot.Topics;

namespace NewsBot.Tests.Topics;

public class StemmerTests
{
    [Theory]
    [InlineData("sanction", "sanction")]
    [InlineData("sanctions", "sanction")]
    [InlineData("sanctioned", "sanction")]
    [InlineData("sanctioning", "sanction")]
    [InlineData("embargo", "embargo")]
    [InlineData("embargoes", "embargo")]
    [InlineData("treaty", "treati")]
    [InlineData("treaties", "treati")]
    [InlineData("ties", "tie")]
    [InlineData("caresses", "caress")]
    [InlineData("election", "elect")]
    [InlineData("elections", "elect")]
    [InlineData("elected", "elect")]
    [InlineData("abduction", "abduct")]
    [InlineData("abducted", "abduct")]
    [InlineData("hoped", "hope")]
    [InlineData("hoping", "hope")]
    [InlineData("hope", "hope")]
    [InlineData("planned", "plan")]
    [InlineData("warring", "war")]
    [InlineData("wars", "war")]
    [InlineData("agreed", "agre")]
    [InlineData("agree", "agre")]
    [InlineData("ratified", "ratifi")]
    [InlineData("ratify", "ratifi")]
    [InlineData("defense", "defens")]
    [InlineData("defenses", "defens")]
    [InlineData("controlled", "control")]
    [InlineData("taxes", "tax")]
    public void Stem_relates_inflected_forms(string word, string expected)
    {
        Assert.Equal(expected, Stemmer.Stem(word));
    }

    [Theory]
    [InlineData("gas")]
    [InlineData("this")]
    [InlineData("status")]
    [InlineData("is")]
    [InlineData("day")]
    [InlineData("sing")]
    public void Stem_leaves_words_that_only_look_inflected(string word)
    {
        Assert.Equal(word, Stemmer.Stem(word));
    }

    [Fact]
    public void Stem_keeps_unrelated_words_apart()
    {
        Assert.NotEqual(Stemmer.Stem("war"), Stemmer.Stem("software"));
        Assert.NotEqual(Stemmer.Stem("war"), Stemmer.Stem("warn"));
        Assert.NotEqual(Stemmer.Stem("war"), Stemmer.Stem("award"));
        Assert.NotEqual(Stemmer.Stem("nation"), Stemmer.Stem("national"));
    }

    [Theory]
    [InlineData("Korea's", "korea")]
    [InlineData("Korea\u2019s", "korea")]
    [InlineData("don't", "dont")]
    [InlineData("SANCTIONS", "sanction")]
    [InlineData("Tōkyō", "tokyo")]
    [InlineData("To\u0304kyo\u0304", "tokyo")]
    public void Stem_folds_case_accents_and_possessives(string word, string expected)
    {
        Assert.Equal(expected, Stemmer.Stem(word));
    }

    [Theory]
    [InlineData("北朝鮮")]
    [InlineData("ロシア")]
    [InlineData("1990s")]
    [InlineData("")]
    [InlineData("'")]
    public void Stem_passes_other_scripts_and_digits_through(string word)
    {
        Assert.Equal(word.Replace("'", ""), Stemmer.Stem(word));
    }
}
