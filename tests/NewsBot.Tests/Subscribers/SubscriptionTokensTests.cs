using NewsBot.Subscribers;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Subscribers;

public sealed class SubscriptionTokensTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"));
    private readonly ManualTime _time = new(Start);

    private string SecretPath => Path.Combine(_directory, SubscriptionTokens.SecretFileName);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(TokenPurpose.Confirm, "email")]
    [InlineData(TokenPurpose.Preferences, "email")]
    [InlineData(TokenPurpose.Unsubscribe, "telegram")]
    public void Verify_AcceptsItsOwnToken_AndReadsItBack(TokenPurpose purpose, string channel)
    {
        var tokens = new SubscriptionTokens(SecretPath, _time);

        var token = tokens.Create(purpose, 4711, channel);
        var problem = tokens.Verify(token, purpose, out var verified);

        Assert.Equal(TokenProblem.None, problem);
        Assert.Equal(new SubscriptionToken(purpose, 4711, channel, purpose == TokenPurpose.Confirm ? Start.AddHours(48) : null), verified);
        Assert.Matches("^[a-z]\\.4711\\.[a-z]+\\.[0-9]+\\.[A-Za-z0-9_-]{22}$", token);
    }

    [Fact]
    public void Confirm_ExpiresAfter48Hours_WhileUnsubscribeAndPreferencesNeverExpire()
    {
        var tokens = new SubscriptionTokens(SecretPath, _time);
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
        var tokens = new SubscriptionTokens(SecretPath, _time);
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
        var tokens = new SubscriptionTokens(SecretPath, _time);
        var unsubscribe = tokens.Create(TokenPurpose.Unsubscribe, 7, Channels.Email);

        Assert.Equal(TokenProblem.WrongPurpose, tokens.Verify(unsubscribe, TokenPurpose.Confirm, out _));
        Assert.Equal(TokenProblem.WrongPurpose, tokens.Verify(unsubscribe, TokenPurpose.Preferences, out _));
    }

    [Fact]
    public void Secret_IsMadeOnFirstUse_OwnerOnly_AndSharedByLaterInstances()
    {
        var first = new SubscriptionTokens(SecretPath, _time);
        Assert.False(File.Exists(SecretPath));

        var token = first.Create(TokenPurpose.Preferences, 9, Channels.Email);
        var second = new SubscriptionTokens(SecretPath, _time);
        var other = new SubscriptionTokens(Path.Combine(_directory, "other", SubscriptionTokens.SecretFileName), _time);

        Assert.Equal(32, new FileInfo(SecretPath).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SecretPath));
        }

        Assert.Equal(TokenProblem.None, second.Verify(token, TokenPurpose.Preferences, out _));
        Assert.Equal(TokenProblem.Forged, other.Verify(token, TokenPurpose.Preferences, out _));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Secret_OfTheWrongLength_StopsWithTheFileNamed()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(SecretPath, new byte[12]);
        var tokens = new SubscriptionTokens(SecretPath, _time);

        var error = Assert.Throws<InvalidOperationException>(() => tokens.Create(TokenPurpose.Unsubscribe, 1, Channels.Email));

        Assert.Contains(SecretPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("holds 12 bytes, not 32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CsrfField_IsBoundToItsCookie()
    {
        var tokens = new SubscriptionTokens(SecretPath, _time);
        var field = tokens.SignCookie("cookie-one-0123456789a");

        Assert.True(tokens.VerifyCookie("cookie-one-0123456789a", field));
        Assert.False(tokens.VerifyCookie("cookie-two-0123456789a", field));
        Assert.False(tokens.VerifyCookie(null, field));
        Assert.False(tokens.VerifyCookie("cookie-one-0123456789a", null));
        Assert.False(tokens.VerifyCookie("cookie-one-0123456789a", "not base64!"));
    }
}
