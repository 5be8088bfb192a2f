namespace NewsBot.Topics;

/// <summary>
/// A light English stemmer: Porter's step 1 (plurals, -ed, -ing, final y), the step 4 "-ion" rule and step 5
/// (final e, double l), with Snowball's fixes for "-ies" and "-s" (M. F. Porter, "An algorithm for suffix
/// stripping", 1980; snowballstem.org/algorithms/english). It only has to map a keyword and the words of a post
/// to the same stem: "sanction", "sanctions", "sanctioned" -> "sanction"; "treaty", "treaties" -> "treati".
/// </summary>
/// <remarks>
/// Limits, by design: no derivational steps 2-3 ("-ational", "-ness", "-ful", "-ive", "-al", "-ment" stay),
/// so "nation"/"national" and "dispose"/"disposal" are different stems, and "-ion" only goes after s or t with
/// two syllables left ("election" -> "elect", "abduction" -> "abduct", but "sanction", "mission" stay).
/// Irregular forms are not related ("ran"/"run", "mice"/"mouse"). Stems are not words ("japanese" -> "japanes").
/// Only ASCII a-z count as vowels; other letters and digits pass through as consonants.
/// </remarks>
public static class Stemmer
{
    /// <summary>Longest word the topic matcher stems; longer tokens (URLs, hashes) never match a keyword.</summary>
    public const int MaxWordLength = 64;

    /// <summary>The stem of one word: lower-cased, accents folded ("Tōkyō" -> "tokyo"), possessive dropped.</summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var buffer = new char[word.Length + 1];
        var length = 0;
        foreach (var c in word)
        {
            var folded = FoldLetter(c);
            if (folded != '\0')
            {
                buffer[length++] = folded;
            }
        }

        return new string(buffer, 0, Stem(buffer, length));
    }

    /// <summary>
    /// Lower-cases and folds one character of a word: Latin accents to the bare letter (Hepburn macrons
    /// "ō" -> "o"), typographic apostrophes to '\''. Returns '\0' for a combining mark, which is dropped.
    /// </summary>
    internal static char FoldLetter(char c)
    {
        if (c < 0x80)
        {
            return c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
        }

        return c switch
        {
            '\u2019' or '\u02BC' or '\u2018' => '\'',
            'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'ā' or 'ă' or 'ą'
                or 'À' or 'Á' or 'Â' or 'Ã' or 'Ä' or 'Å' or 'Ā' or 'Ă' or 'Ą' => 'a',
            'è' or 'é' or 'ê' or 'ë' or 'ē' or 'ĕ' or 'ė' or 'ę' or 'ě'
                or 'È' or 'É' or 'Ê' or 'Ë' or 'Ē' or 'Ĕ' or 'Ė' or 'Ę' or 'Ě' => 'e',
            'ì' or 'í' or 'î' or 'ï' or 'ī' or 'ĭ' or 'į'
                or 'Ì' or 'Í' or 'Î' or 'Ï' or 'Ī' or 'Ĭ' or 'Į' => 'i',
            'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'ō' or 'ŏ' or 'ő'
                or 'Ò' or 'Ó' or 'Ô' or 'Õ' or 'Ö' or 'Ø' or 'Ō' or 'Ŏ' or 'Ő' => 'o',
            'ù' or 'ú' or 'û' or 'ü' or 'ū' or 'ŭ' or 'ů' or 'ű' or 'ų'
                or 'Ù' or 'Ú' or 'Û' or 'Ü' or 'Ū' or 'Ŭ' or 'Ů' or 'Ű' or 'Ų' => 'u',
            'ç' or 'Ç' => 'c',
            'ñ' or 'Ñ' => 'n',
            _ when char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark => '\0',
            _ => char.ToLowerInvariant(c),
        };
    }

    /// <summary>
    /// Stems the lower-case word in <c>word[..length]</c> in place and returns the stem's length.
    /// <paramref name="word"/> needs one spare character: step 1b can add an "e" ("hoped" -> "hope").
    /// </summary>
    internal static int Stem(Span<char> word, int length)
    {
        var n = DropApostrophes(word, length);
        if (n <= 2)
        {
            // Porter: words of one or two letters are left alone ("is", "us", "as").
            return n;
        }

        n = StripPlural(word, n);
        n = StripEdIng(word, n);
        n = ReplaceFinalY(word, n);
        n = StripIon(word, n);
        return StripFinalE(word, n);
    }

    // "Korea's" -> "korea", "allies'" -> "allies", "don't" -> "dont".
    private static int DropApostrophes(Span<char> w, int n)
    {
        if (n >= 2 && w[n - 2] == '\'' && w[n - 1] == 's')
        {
            n -= 2;
        }

        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            if (w[i] != '\'')
            {
                w[kept++] = w[i];
            }
        }

        return kept;
    }

    // Porter step 1a with Snowball's "ies" and "s" rules.
    private static int StripPlural(Span<char> w, int n)
    {
        if (EndsWith(w, n, "sses"))
        {
            return n - 2;
        }

        if (EndsWith(w, n, "ies"))
        {
            // Snowball: "ties" -> "tie", "treaties" -> "treati" (and "treaty" -> "treati" in step 1c).
            return n > 4 ? n - 2 : n - 1;
        }

        if (EndsWith(w, n, "ss") || EndsWith(w, n, "us") || w[n - 1] != 's')
        {
            return n;
        }

        // Snowball: drop the "s" only when a vowel comes before the letter preceding it ("gas", "this" stay).
        return HasVowel(w, n - 2) ? n - 1 : n;
    }

    // Porter step 1b.
    private static int StripEdIng(Span<char> w, int n)
    {
        if (EndsWith(w, n, "eed"))
        {
            return Measure(w, n - 3) > 0 ? n - 1 : n;
        }

        int stem;
        if (EndsWith(w, n, "ed") && HasVowel(w, n - 2))
        {
            stem = n - 2;
        }
        else if (EndsWith(w, n, "ing") && HasVowel(w, n - 3))
        {
            stem = n - 3;
        }
        else
        {
            return n;
        }

        if (EndsWith(w, stem, "at") || EndsWith(w, stem, "bl") || EndsWith(w, stem, "iz"))
        {
            w[stem] = 'e';
            return stem + 1;
        }

        if (EndsWithDoubleConsonant(w, stem) && w[stem - 1] is not ('l' or 's' or 'z'))
        {
            return stem - 1;
        }

        if (Measure(w, stem) == 1 && EndsCvc(w, stem))
        {
            w[stem] = 'e';
            return stem + 1;
        }

        return stem;
    }

    // Porter step 1c as Snowball words it: "treaty" -> "treati", but "day", "say" stay.
    private static int ReplaceFinalY(Span<char> w, int n)
    {
        if (n > 2 && w[n - 1] == 'y' && IsConsonant(w, n - 2))
        {
            w[n - 1] = 'i';
        }

        return n;
    }

    // Porter step 4, the "-ion" rule only: (m>1 and (*S or *T)) ION -> "".
    private static int StripIon(Span<char> w, int n)
    {
        if (EndsWith(w, n, "ion") && n > 4 && w[n - 4] is 's' or 't' && Measure(w, n - 3) > 1)
        {
            return n - 3;
        }

        return n;
    }

    // Porter step 5: (m>1) E -> "", (m=1 and not *o) E -> "", (m>1 and *d and *L) -> single letter.
    private static int StripFinalE(Span<char> w, int n)
    {
        if (w[n - 1] == 'e')
        {
            var m = Measure(w, n - 1);
            if (m > 1 || (m == 1 && !EndsCvc(w, n - 1)))
            {
                n--;
            }
        }

        if (n > 1 && w[n - 1] == 'l' && w[n - 2] == 'l' && Measure(w, n) > 1)
        {
            n--;
        }

        return n;
    }

    private static bool EndsWith(Span<char> w, int n, string suffix) =>
        n >= suffix.Length && w[(n - suffix.Length)..n].SequenceEqual(suffix);

    // Porter: a, e, i, o, u are vowels; y is a vowel after a consonant. Anything else is a consonant.
    private static bool IsConsonant(Span<char> w, int i) => w[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(w, i - 1),
        _ => true,
    };

    private static bool HasVowel(Span<char> w, int n)
    {
        for (var i = 0; i < n; i++)
        {
            if (!IsConsonant(w, i))
            {
                return true;
            }
        }

        return false;
    }

    // Porter's m: the number of vowel-consonant sequences in [C](VC){m}[V].
    private static int Measure(Span<char> w, int n)
    {
        var i = 0;
        while (i < n && IsConsonant(w, i))
        {
            i++;
        }

        var m = 0;
        while (i < n)
        {
            while (i < n && !IsConsonant(w, i))
            {
                i++;
            }

            if (i == n)
            {
                break;
            }

            while (i < n && IsConsonant(w, i))
            {
                i++;
            }

            m++;
        }

        return m;
    }

    private static bool EndsWithDoubleConsonant(Span<char> w, int n) =>
        n >= 2 && w[n - 1] == w[n - 2] && IsConsonant(w, n - 1);

    // Porter's *o: consonant-vowel-consonant, the last not w, x or y ("hop", "fil"; not "snow", "box").
    private static bool EndsCvc(Span<char> w, int n) =>
        n >= 3 && IsConsonant(w, n - 3) && !IsConsonant(w, n - 2) && IsConsonant(w, n - 1)
        && w[n - 1] is not ('w' or 'x' or 'y');
}
