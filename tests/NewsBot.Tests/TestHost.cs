using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

using NewsBot.Cli;
using NewsBot.Storage;

namespace NewsBot.Tests;

/// <summary>
/// The application's own service wiring (the CLI's, minus the web server) over a fresh data directory that is
/// deleted afterwards. Tests get the same services, options validation and migrations as the product.
/// </summary>
public sealed class TestHost : IDisposable
{
    private string? _postgresql;

    private TestHost(string dataDirectory, Dictionary<string, string?> configuration)
    {
        DataDirectory = dataDirectory;
        Configuration = configuration;
    }

    public string DataDirectory { get; }

    public Dictionary<string, string?> Configuration { get; }

    /// <summary>
    /// The provider of every host that does not pin one: <c>NEWSBOT_TEST_PROVIDER</c> (<c>sqlite</c> when unset, or
    /// <c>postgresql</c>, a fresh database per host on the server of <see cref="TestPaths.RequirePostgres"/>), so
    /// .ci/run runs the whole suite once per provider.
    /// </summary>
    public static string DefaultProvider { get; } = ReadDefaultProvider();

    /// <summary>A host on <see cref="DefaultProvider"/>.</summary>
    public static TestHost Create(params (string Key, string? Value)[] settings) => Create(DefaultProvider, settings);

    /// <summary>
    /// A host with its database on <paramref name="provider"/>: SQLite in the data directory, or for postgresql a fresh
    /// database (see <see cref="Storage.TestPostgres"/>), dropped on dispose. <paramref name="settings"/> apply last.
    /// </summary>
    public static TestHost Create(string provider, params (string Key, string? Value)[] settings)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dataDirectory);
        var host = new TestHost(dataDirectory, new Dictionary<string, string?> { ["NewsBot:DataDirectory"] = dataDirectory });
        if (provider == Db.PostgresqlProvider)
        {
            host._postgresql = Storage.TestPostgres.CreateDatabase();
            host.Configuration["NewsBot:Database:Provider"] = Db.PostgresqlProvider;
            host.Configuration["NewsBot:Database:ConnectionString"] = host._postgresql;
        }

        foreach (var (key, value) in settings)
        {
            host.Configuration[key] = value;
        }

        return host;
    }

    /// <summary>A new service provider over the same data directory, as after a restart.</summary>
    public async Task<IServiceProvider> StartAsync()
    {
        var services = CliApp.BuildServices(Configuration);
        await services.MigrateStorageAsync(CancellationToken.None);
        return services;
    }

    public async Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, output, error, Configuration);
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>The real binary as a child process over this data directory, its output redirected for the caller.</summary>
    public Process StartServiceProcess(int port, params (string Key, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "NewsBot.dll"), "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = DataDirectory,
        };
        start.Environment["NewsBot__DataDirectory"] = DataDirectory;
        if (_postgresql is not null)
        {
            start.Environment["NewsBot__Database__Provider"] = Db.PostgresqlProvider;
            start.Environment["NewsBot__Database__ConnectionString"] = _postgresql;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>A loopback port free a moment ago, for a child process that must be told its port up front.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether the store exists: the SQLite file, or any table in the PostgreSQL database.</summary>
    public bool HasStore()
    {
        if (_postgresql is null)
        {
            return File.Exists(Path.Combine(DataDirectory, "newsbot.db"));
        }

        using var connection = new Npgsql.NpgsqlConnection(_postgresql);
        connection.Open();
        using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        return (long)count.ExecuteScalar()! > 0;
    }

    private static string ReadDefaultProvider()
    {
        var provider = Environment.GetEnvironmentVariable("NEWSBOT_TEST_PROVIDER");
        return provider switch
        {
            null or "" or Db.SqliteProvider => Db.SqliteProvider,
            Db.PostgresqlProvider => Db.PostgresqlProvider,
            _ => throw new InvalidOperationException($"NEWSBOT_TEST_PROVIDER '{provider}' is not one of {Db.SqliteProvider}, {Db.PostgresqlProvider}"),
        };
    }

    public void Dispose()
    {
        if (_postgresql is not null)
        {
            Storage.TestPostgres.DropDatabase(_postgresql);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a background thread; the temp folder is cleaned by the OS.
        }
    }
}
