using MailKit.Security;

using Microsoft.Extensions.Options;

using NewsBot.Jobs;

namespace NewsBot.Email;

/// <summary>The <c>NewsBot:Email:Bounces</c> section: the IMAP mailbox bounces and complaints arrive in. Off by default.</summary>
public sealed class BounceOptions
{
    public const string Section = "NewsBot:Email:Bounces";

    public bool Enabled { get; set; }

    public string? Host { get; set; }

    /// <summary>993 is IMAP over TLS (RFC 8314 §3.3); 143 with <see cref="SecureSocketOptions.StartTls"/> also works.</summary>
    public int Port { get; set; } = 993;

    /// <summary>MailKit's names: <c>SslOnConnect</c>, <c>StartTls</c>, <c>StartTlsWhenAvailable</c>, <c>Auto</c>, <c>None</c> (loopback tests only).</summary>
    /// <remarks>Text, not the enum: a wrong value then gets the validator's message instead of a binder exception.</remarks>
    public string Security { get; set; } = nameof(SecureSocketOptions.Auto);

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>The folder polled for unseen messages.</summary>
    public string Folder { get; set; } = "INBOX";

    /// <summary>Where processed messages are moved; null leaves them in <see cref="Folder"/>, flagged \Seen.</summary>
    public string? ProcessedFolder { get; set; }

    public string Cron { get; set; } = "*/10 * * * *";

    /// <summary>Soft bounces (delays, full mailboxes, 4.x.x) of one address within <see cref="SoftBounceWindow"/> that suppress it.</summary>
    public int SoftBounceThreshold { get; set; } = 3;

    public TimeSpan SoftBounceWindow { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Messages one run reads at most; the rest wait for the next run, so a flood cannot hold the job for hours.</summary>
    public int MaxMessagesPerRun { get; set; } = 500;

    /// <summary>One IMAP command; a server that takes longer fails the run, which the next one retries.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><see cref="Security"/> as MailKit takes it; the validator has checked it.</summary>
    public SecureSocketOptions SocketOptions => Enum.Parse<SecureSocketOptions>(Security, ignoreCase: true);

    public static bool IsSecurity(string? value) =>
        Enum.TryParse<SecureSocketOptions>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(value, out _);
}

/// <summary>Every failure names its key. The connection settings are checked only when the mailbox is enabled.</summary>
public sealed class BounceOptionsValidator : IValidateOptions<BounceOptions>
{
    public ValidateOptionsResult Validate(string? name, BounceOptions options)
    {
        var section = BounceOptions.Section;
        var errors = new List<string>();
        if (options.Enabled)
        {
            if (string.IsNullOrWhiteSpace(options.Host))
            {
                errors.Add($"{section}:Host is required when {section}:Enabled is true (the IMAP server, e.g. 'imap.example.org')");
            }

            if (options.Port is < 1 or > 65535)
            {
                errors.Add($"{section}:Port {options.Port} must be between 1 and 65535 (993 for IMAP over TLS, 143 for STARTTLS)");
            }

            if (string.IsNullOrWhiteSpace(options.Username) || string.IsNullOrEmpty(options.Password))
            {
                errors.Add($"{section}:Username and {section}:Password are required when {section}:Enabled is true");
            }

            if (string.IsNullOrWhiteSpace(options.Folder))
            {
                errors.Add($"{section}:Folder is empty: name the folder to poll (e.g. 'INBOX')");
            }

            if (options.ProcessedFolder is { } processed && (processed.Trim().Length == 0 || processed.Trim() == options.Folder.Trim()))
            {
                errors.Add($"{section}:ProcessedFolder '{processed}' must be another folder than {section}:Folder, or left out");
            }

            if (!CronSchedule.IsValid(options.Cron))
            {
                errors.Add($"{section}:Cron '{options.Cron}' is not a cron expression (five fields, e.g. '*/10 * * * *')");
            }
        }

        if (!BounceOptions.IsSecurity(options.Security))
        {
            errors.Add($"{section}:Security '{options.Security}' must be one of {string.Join(", ", Enum.GetNames<SecureSocketOptions>())}");
        }

        if (options.SoftBounceThreshold is < 1 or > 1000)
        {
            errors.Add($"{section}:SoftBounceThreshold {options.SoftBounceThreshold} must be between 1 and 1000");
        }

        if (options.SoftBounceWindow < TimeSpan.FromHours(1) || options.SoftBounceWindow > TimeSpan.FromDays(365))
        {
            errors.Add($"{section}:SoftBounceWindow {options.SoftBounceWindow} must be between 01:00:00 and 365.00:00:00");
        }

        if (options.MaxMessagesPerRun is < 1 or > 100_000)
        {
            errors.Add($"{section}:MaxMessagesPerRun {options.MaxMessagesPerRun} must be between 1 and 100000");
        }

        if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{section}:Timeout {options.Timeout} must be between 00:00:01 and 00:10:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
