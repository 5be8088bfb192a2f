using Npgsql;

namespace NewsBot.Tests.Storage;

/// <summary>A fresh database per test on the server of <see cref="TestPaths.RequirePostgres"/>, dropped afterwards.</summary>
public static class TestPostgres
{
    /// <summary>Creates <c>newsbot_test_&lt;guid&gt;</c> and returns a connection string to it.</summary>
    public static string CreateDatabase()
    {
        var server = TestPaths.RequirePostgres();
        var name = "newsbot_test_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(server))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    /// <summary>Drops the database, closing the connections pools still hold to it (PostgreSQL 13+ FORCE).</summary>
    public static void DropDatabase(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = builder.Database!;
        builder.Database = "postgres";
        builder.Pooling = false;
        using var connection = new NpgsqlConnection(builder.ToString());
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }
}
