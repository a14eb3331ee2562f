using ClickHouse.Driver.ADO;
using Xunit;

namespace Insights.DevStack.Testing;

/// <summary>
/// The dev stack for integration tests: the one given by <c>INSIGHTS_CLICKHOUSE_URL</c> and
/// <c>INSIGHTS_KAFKA_BOOTSTRAP</c> when both are set, otherwise a private one started once for the test
/// assembly (own data directory, free ports) and stopped with SIGTERM at its end. Register it with
/// <c>[assembly: AssemblyFixture(typeof(DevStackFixture))]</c>; give each test its own database
/// (<see cref="CreateDatabaseAsync"/>) and topics (<see cref="NewTopicName"/>) so tests never see each other's data.
/// </summary>
public sealed class DevStackFixture : IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string>? settings;
    private DevStackProcess? process;
    private string? workDirectory;

    public DevStackFixture()
    {
    }

    // xUnit takes an assembly fixture's one public constructor; a fixture with settings is made by With.
    private DevStackFixture(IReadOnlyDictionary<string, string> settings) => this.settings = settings;

    /// <summary>A fixture whose own stack starts with <paramref name="settings"/> (dev stack configuration keys, e.g. the
    /// topics it creates and trims); a stack named by the environment is used as it is.</summary>
    public static DevStackFixture With(IReadOnlyDictionary<string, string> settings) => new(settings);

    public string ClickHouseUrl { get; private set; } = "";

    public string KafkaBootstrap { get; private set; } = "";

    /// <summary>Whether this fixture started the stack (and so may take its brokers down).</summary>
    public bool OwnsStack => process is not null;

    public async ValueTask InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("INSIGHTS_CLICKHOUSE_URL");
        var bootstrap = Environment.GetEnvironmentVariable("INSIGHTS_KAFKA_BOOTSTRAP");
        if (!string.IsNullOrEmpty(url) && !string.IsNullOrEmpty(bootstrap))
        {
            (ClickHouseUrl, KafkaBootstrap) = (url, bootstrap);
            return;
        }

        workDirectory = Directory.CreateTempSubdirectory("insights-devstack-").FullName;
        process = DevStackProcess.Start(Path.Combine(workDirectory, "clickhouse"), Path.Combine(workDirectory, "devstack.env"), settings);
        var addresses = await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        ClickHouseUrl = addresses["INSIGHTS_CLICKHOUSE_URL"];
        KafkaBootstrap = addresses["INSIGHTS_KAFKA_BOOTSTRAP"];
    }

    /// <summary>A ClickHouse.Driver connection string for the stack, optionally bound to a database.</summary>
    public string ConnectionString(string? database = null)
    {
        var uri = new Uri(ClickHouseUrl);
        var cs = $"Host={uri.Host};Port={uri.Port};Protocol={uri.Scheme};Username=default;Password=";
        return database is null ? cs : cs + $";Database={database}";
    }

    /// <summary>Creates a database no other test uses and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{Sanitize(prefix)}_{Guid.NewGuid():N}";
        using var connection = new ClickHouseConnection(ConnectionString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE {name}";
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>A topic name no other test uses (topics auto-create with 4 partitions on first use).</summary>
    public static string NewTopicName(string prefix = "test") => $"test.{Sanitize(prefix)}.{Guid.NewGuid():N}";

    /// <summary>Takes a mock Kafka broker down or up through the dev stack's fault-injection endpoint.</summary>
    public async Task SetKafkaBrokerAsync(int brokerId, bool up)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ClickHouseUrl) };
        using var response = await http.PostAsync(new Uri($"/_devstack/kafka/brokers/{brokerId}/{(up ? "up" : "down")}", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Makes the dev stack's ClickHouse refuse every request (503) or serve again: an outage
    /// without losing data. Only for tests that own their stack or run alone.</summary>
    public async Task SetClickHouseAvailableAsync(bool available)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ClickHouseUrl) };
        using var response = await http.PostAsync(new Uri($"/_devstack/clickhouse/{(available ? "up" : "down")}", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }

        if (workDirectory is not null)
        {
            try
            {
                Directory.Delete(workDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless; failing the test run over it is not.
            }
        }
    }

    private static string Sanitize(string prefix) =>
        new(prefix.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());
}
