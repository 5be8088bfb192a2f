using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

public sealed class StorageOptionsValidatorTests
{
    private readonly StorageOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_AreSqliteInTheDataDirectory()
    {
        var options = new StorageOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal("sqlite", options.Database.Provider);
    }

    [Fact]
    public void Validate_UnknownProvider_NamesTheKeyAndTheChoices()
    {
        var result = _validator.Validate(null, Options("mysql", null));

        Assert.Equal(["NewsBot:Database:Provider 'mysql' is not one of sqlite, postgresql"], result.Failures);
    }

    [Theory]
    [InlineData(null, "NewsBot:Database:ConnectionString is empty")]
    [InlineData("Database=newsbot", "NewsBot:Database:ConnectionString names no Host")]
    [InlineData("Host=db;Flavour=mint", "NewsBot:Database:ConnectionString is not an Npgsql connection string")]
    public void Validate_PostgresqlWithoutAUsableConnectionString_SaysWhy(string? connectionString, string expected)
    {
        var result = _validator.Validate(null, Options("postgresql", connectionString));

        Assert.StartsWith(expected, Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_PostgresqlWithHost_Succeeds()
    {
        Assert.True(_validator.Validate(null, Options("postgresql", "Host=db;Database=newsbot;Username=newsbot")).Succeeded);
    }

    [Fact]
    public void Validate_ConnectionStringForSqlite_IsRefusedRatherThanIgnored()
    {
        var result = _validator.Validate(null, Options("sqlite", "Data Source=/elsewhere.db"));

        Assert.Contains("provider is sqlite", Assert.Single(result.Failures!));
    }

    [Fact]
    public async Task Cli_WrongProvider_ExitsTwoNamingTheKey()
    {
        using var host = TestHost.Create(("NewsBot:Database:Provider", "postgres"));

        var (exitCode, _, error) = await host.RunCliAsync("feeds", "list");

        Assert.Equal(2, exitCode);
        Assert.Contains("NewsBot:Database:Provider 'postgres' is not one of sqlite, postgresql", error);
    }

    [SkippableFact]
    public async Task Cli_OnPostgresql_MigratesThatDatabaseAndWritesNoSqliteFile()
    {
        using var host = TestHost.Create(Db.PostgresqlProvider);

        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "add", "--email", "reader@example.org");

        Assert.True(exitCode == 0, error);
        using var db = new Db(Db.PostgresqlProvider, host.Configuration["NewsBot:Database:ConnectionString"]!);
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand("SELECT address FROM subscriber_channels");
        Assert.Equal("reader@example.org", await command.ExecuteScalarAsync(CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(host.DataDirectory, "newsbot.db")));
    }

    private static StorageOptions Options(string provider, string? connectionString) =>
        new() { Database = new DatabaseOptions { Provider = provider, ConnectionString = connectionString } };
}
