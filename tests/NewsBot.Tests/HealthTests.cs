using System.Net;
using System.Net.Sockets;
using System.Text.Json;

using Hangfire;
using Hangfire.Storage;

using NewsBot.Storage;
using NewsBot.Tests.Admin;

using Npgsql;

namespace NewsBot.Tests;

/// <summary><c>GET /healthz</c> as a load balancer calls it.</summary>
public sealed class HealthTests
{
    private const string Secret = "healthz-must-not-show-4711";

    [Fact]
    public async Task Healthz_DatabaseAndJobsAnswer_Is200WithEachCheck()
    {
        await using var service = await ServiceUnderTest.StartAsync();

        var (status, body) = await GetHealthAsync(service);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        var database = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("ok", database.GetProperty("status").GetString());
        Assert.True(database.GetProperty("schemaVersion").GetInt64() >= 1);
        Assert.Equal("ok", body.GetProperty("checks").GetProperty("jobs").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Healthz_SchemaGoneAfterStart_Is503NamingTheDatabase()
    {
        await using var service = await ServiceUnderTest.StartAsync();
        await using (var connection = await service.Services.GetRequiredService<Db>().OpenAsync(CancellationToken.None))
        {
            await using var drop = connection.CreateCommand("DROP TABLE schema_migrations");
            await drop.ExecuteNonQueryAsync();
        }

        var (status, body) = await GetHealthAsync(service);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("failing", body.GetProperty("status").GetString());
        var database = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("failing", database.GetProperty("status").GetString());
        Assert.Contains("schema_migrations", database.GetProperty("error").GetString());
        Assert.Equal("ok", body.GetProperty("checks").GetProperty("jobs").GetProperty("status").GetString());
    }

    [SkippableFact]
    public async Task Healthz_PostgresqlRefusingConnections_Is503WithoutThePassword()
    {
        var host = TestHost.Create(Db.PostgresqlProvider);
        // Trust authentication never asks for it, so the password is sent nowhere but must not be shown either.
        host.Configuration["NewsBot:Database:ConnectionString"] += ";Password=" + Secret;
        await using var service = await ServiceUnderTest.StartAsync(host);
        var database = new NpgsqlConnectionStringBuilder(service.Services.GetRequiredService<Db>().ConnectionString).Database!;
        // What a database being dropped or restored looks like to the service: new connections are refused and the
        // pooled ones are gone (https://www.postgresql.org/docs/15/sql-alterdatabase.html).
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestPaths.RequirePostgres()) { Database = "postgres", Pooling = false }.ToString()))
        {
            await admin.OpenAsync();
            await using var refuse = new NpgsqlCommand(
                $"ALTER DATABASE {database} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'", admin);
            await refuse.ExecuteNonQueryAsync();
        }

        var (status, body) = await GetHealthAsync(service);
        var text = body.GetRawText();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var check = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("failing", check.GetProperty("status").GetString());
        Assert.Contains(database, check.GetProperty("error").GetString());
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        // Hangfire keeps its queues in the same database (schema hangfire), so it cannot answer either.
        Assert.Equal("failing", body.GetProperty("checks").GetProperty("jobs").GetProperty("status").GetString());
    }

    [Fact]
    public async Task CheckDatabase_ClosedPort_FailsNamingTheHostWithoutThePassword()
    {
        var port = TestHost.FreePort();
        using var db = new Db(Db.PostgresqlProvider, $"Host=127.0.0.1;Port={port};Database=newsbot;Username=newsbot;Password={Secret}");

        var check = await ServiceHost.CheckDatabaseAsync(db, CancellationToken.None);

        Assert.Equal(HealthCheck.Failing, check.Status);
        Assert.Contains($"'newsbot' on 127.0.0.1:{port}", check.Error);
        Assert.DoesNotContain(Secret, check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckDatabase_ServerThatNeverAnswers_FailsAfterTheCheckTimeout()
    {
        // Accepts the TCP connection (the kernel does, from the backlog) and never sends a byte back.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var db = new Db(Db.PostgresqlProvider, $"Host=127.0.0.1;Port={port};Database=newsbot;Username=newsbot;Timeout=60");

        var check = await ServiceHost.CheckDatabaseAsync(db, CancellationToken.None);

        Assert.Equal(HealthCheck.Failing, check.Status);
        Assert.Equal($"postgresql database 'newsbot' on 127.0.0.1:{port} did not answer within 5 s", check.Error);
    }

    [Fact]
    public void CheckJobs_StorageUnreachable_FailsWithItsMessage()
    {
        var check = ServiceHost.CheckJobs(new UnreachableStorage());

        Assert.Equal(HealthCheck.Failing, check.Status);
        Assert.Equal("connection refused by the job store", check.Error);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetHealthAsync(ServiceUnderTest service)
    {
        var response = await service.Http.GetAsync("/healthz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>A Hangfire storage whose server cannot be reached, as Hangfire.PostgreSql is when its database is down.</summary>
    private sealed class UnreachableStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new InvalidOperationException("connection refused by the job store");

        public override IStorageConnection GetConnection() => throw new InvalidOperationException("connection refused by the job store");
    }
}
