using NewsBot.Subscribers;
using NewsBot.Tests.Posts;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Subscribers;

public sealed class SubscriptionTokensTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"));
    private readonly ManualTime _time = new(Start);
    private readonly TempDatabase _database = new(TestHost.DefaultProvider);
    private readonly TempDatabase _otherDatabase = new(TestHost.DefaultProvider);

    private string LegacySecretPath => Path.Combine(_directory, SubscriptionTokens.LegacySecretFileName);

    public async Task InitializeAsync()
    {
        await _database.OpenMigratedAsync();
        await _otherDatabase.OpenMigratedAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _database.Dispose();
        _otherDatabase.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private SubscriptionTokens NewTokens() => new(_database.Open(), LegacySecretPath, _time);

    [Theory]
    [InlineData(TokenPurpose.Confirm, "email")]
    [InlineData(TokenPurpose.Preferences, "email")]
    [InlineData(TokenPurpose.Unsubscribe, "telegram")]
    public void Verify_AcceptsItsOwnToken_AndReadsItBack(TokenPurpose purpose, string channel)
    {
        var tokens = NewTokens();

        var token = tokens.Create(purpose, 4711, channel);
        var problem = tokens.Verify(token, purpose, out var verified);

        Assert.Equal(TokenProblem.None, problem);
        Assert.Equal(new SubscriptionToken(purpose, 4711, channel, purpose == TokenPurpose.Confirm ? Start.AddHours(48) : null), verified);
        Assert.Matches("^[a-z]\\.4711\\.[a-z]+\\.[0-9]+\\.[A-Za-z0-9_-]{22}$", token);
    }

    [Fact]
    public void Confirm_ExpiresAfter48Hours_WhileUnsubscribeAndPreferencesNeverExpire()
    {
        var tokens = NewTokens();
        var confirm = tokens.Create(TokenPurpose.Confirm, 1, Channels.Email);
        var unsubscribe = tokens.Create(TokenPurpose.Unsubscribe, 1, Channels.Email);
        var preferences = tokens.Create(TokenPurpose.Preferences, 1, Channels.Email);

        _time.Now = Start.AddHours(48).AddSeconds(-1);
        var justBefore = tokens.Verify(confirm, TokenPurpose.Confirm, out _);
        _time.Now = Start.AddHours(48);
        var atExpiry = tokens.Verify(confirm, TokenPurpose.Confirm, out var expired);
        _time.Now = Start.AddYears(10);

        Assert.Equal(TokenProblem.None, justBefore);
        Assert.Equal(TokenProblem.Expired, atExpiry);
        Assert.Equal(Start.AddHours(48), expired!.Expires);
        Assert.Equal(TokenProblem.None, tokens.Verify(unsubscribe, TokenPurpose.Unsubscribe, out _));
        Assert.Equal(TokenProblem.None, tokens.Verify(preferences, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public void Verify_RefusesAlteredTokens()
    {
        var tokens = NewTokens();
        var token = tokens.Create(TokenPurpose.Confirm, 42, Channels.Email);
        var parts = token.Split('.');
        string With(int index, string value)
        {
            var copy = (string[])parts.Clone();
            copy[index] = value;
            return string.Join('.', copy);
        }

        // The first character of the MAC carries six bits of it; the last carries two, and four unused bits.
        var flipped = (parts[4][0] == 'A' ? 'B' : 'A') + parts[4][1..];
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var unusedBitSet = parts[4][..^1] + Alphabet[Alphabet.IndexOf(parts[4][^1], StringComparison.Ordinal) ^ 1];

        Assert.Equal(TokenProblem.Forged, tokens.Verify(With(1, "43"), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Forged, tokens.Verify(With(2, Channels.Telegram), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Forged, tokens.Verify(With(3, (long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture) + 86_400).ToString(System.Globalization.CultureInfo.InvariantCulture)), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Forged, tokens.Verify(With(0, "u"), TokenPurpose.Unsubscribe, out _));
        Assert.Equal(TokenProblem.Forged, tokens.Verify(With(4, flipped), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(With(4, unusedBitSet), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(token[..^3], TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(With(2, "fax"), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(With(1, "-1"), TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify("", TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(null, TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.Malformed, tokens.Verify(token + ".x", TokenPurpose.Confirm, out _));
    }

    [Fact]
    public void Verify_RefusesATokenOfAnotherPurpose()
    {
        var tokens = NewTokens();
        var unsubscribe = tokens.Create(TokenPurpose.Unsubscribe, 7, Channels.Email);

        Assert.Equal(TokenProblem.WrongPurpose, tokens.Verify(unsubscribe, TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.WrongPurpose, tokens.Verify(unsubscribe, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public void Secret_IsMadeOnFirstUse_InTheDatabase_AndSharedByEveryProcessOnIt()
    {
        var first = NewTokens();
        var token = first.Create(TokenPurpose.Preferences, 9, Channels.Email);
        // A second process on the same database (another instance, or the CLI beside the service).
        var second = NewTokens();
        var otherInstallation = new SubscriptionTokens(_otherDatabase.Open(), LegacySecretPath, _time);

        Assert.Equal(TokenProblem.None, second.Verify(token, TokenPurpose.Preferences, out _));
        Assert.Equal(TokenProblem.Forged, otherInstallation.Verify(token, TokenPurpose.Preferences, out _));
        Assert.False(Directory.Exists(_directory));
    }

    [Fact]
    public void Secret_OfAnEarlierVersion_IsAdopted_SoItsLinksKeepWorking()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(LegacySecretPath, Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var upgraded = NewTokens();
        // Another installation upgraded from the same secret.key signs the same links.
        var sameKeyElsewhere = new SubscriptionTokens(_otherDatabase.Open(), LegacySecretPath, _time);
        var withoutTheFile = new SubscriptionTokens(_otherDatabase.Open(), Path.Combine(_directory, "none", "secret.key"), _time);

        var token = upgraded.Create(TokenPurpose.Unsubscribe, 3, Channels.Email);

        Assert.Equal(TokenProblem.None, sameKeyElsewhere.Verify(token, TokenPurpose.Unsubscribe, out _));
        // Once stored, the database's secret is the one used, file or no file.
        Assert.Equal(TokenProblem.None, withoutTheFile.Verify(token, TokenPurpose.Unsubscribe, out _));
    }

    [Fact]
    public void Secret_OfTheWrongLength_StopsWithTheFileNamed()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(LegacySecretPath, new byte[12]);
        var tokens = NewTokens();

        var error = Assert.Throws<InvalidOperationException>(() => tokens.Create(TokenPurpose.Unsubscribe, 1, Channels.Email));

        Assert.Contains(LegacySecretPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("holds 12 bytes, not 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CsrfField_IsBoundToItsCookie()
    {
        var tokens = NewTokens();
        var field = tokens.SignCookie("cookie-one-0123456789a");

        Assert.True(tokens.VerifyCookie("cookie-one-0123456789a", field));
        Assert.False(tokens.VerifyCookie("cookie-two-0123456789a", field));
        Assert.False(tokens.VerifyCookie(null, field));
        Assert.False(tokens.VerifyCookie("cookie-one-0123456789a", null));
        Assert.False(tokens.VerifyCookie("cookie-one-0123456789a", "not base64!"));
    }
}
