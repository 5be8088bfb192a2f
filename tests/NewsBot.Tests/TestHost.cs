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

    public static TestHost Create(params (string Key, string? Value)[] settings)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dataDirectory);
        var configuration = new Dictionary<string, string?> { ["NewsBot:DataDirectory"] = dataDirectory };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        return new TestHost(dataDirectory, configuration);
    }

    /// <summary>
    /// As <see cref="Create(ValueTuple{string, string}[])"/>, with the database on <paramref name="provider"/>: for
    /// postgresql a fresh database (see <see cref="Storage.TestPostgres"/>), dropped on dispose.
    /// </summary>
    public static TestHost Create(string provider, params (string Key, string? Value)[] settings)
    {
        var host = Create(settings);
        if (provider == Db.PostgresqlProvider)
        {
            host._postgresql = Storage.TestPostgres.CreateDatabase();
            host.Configuration["NewsBot:Database:Provider"] = Db.PostgresqlProvider;
            host.Configuration["NewsBot:Database:ConnectionString"] = host._postgresql;
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
