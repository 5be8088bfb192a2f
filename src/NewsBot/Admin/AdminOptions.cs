using Microsoft.Extensions.Options;

namespace NewsBot.Admin;

/// <summary>The admin part of the <c>NewsBot</c> section. With no token the admin API is off.</summary>
public sealed class AdminOptions
{
    /// <summary>The bearer token of the admin API, and the password of the dashboard's basic sign-in (user <c>admin</c>).</summary>
    public string? Token { get; set; }

    public bool ApiEnabled => !string.IsNullOrEmpty(Token);
}

public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    /// <summary>Guessable tokens protect nothing: 16 characters is 96 bits of base64 randomness.</summary>
    public const int MinTokenLength = 16;

    public ValidateOptionsResult Validate(string? name, AdminOptions options) =>
        options.Token is { } token && (token.Length < MinTokenLength || token.Any(char.IsWhiteSpace))
            ? ValidateOptionsResult.Fail($"NewsBot:Admin:Token must be at least {MinTokenLength} characters without spaces (e.g. `openssl rand -base64 24`)")
            : ValidateOptionsResult.Success;
}
