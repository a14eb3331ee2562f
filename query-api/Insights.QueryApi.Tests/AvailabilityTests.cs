using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;
using Insights.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.QueryApi.Tests;

/// <summary>When ClickHouse cannot answer, callers get a 503 that says why and when to retry, and readiness says so too.</summary>
public sealed class AvailabilityTests(DevStackFixture stack)
{
    private const string Range = "?from=2026-05-01&to=2026-05-02";

    [Fact]
    public async Task Unreachable_clickhouse_is_a_503_with_retry_after_and_counted()
    {
        var settings = TestSites.Settings($"Host=127.0.0.1;Port={ClosedPort()};Username=default;Password=", "insights");
        await using var api = new QueryApiFactory(settings);
        var client = api.CreateClient();
        using var errors = new MetricRecorder(api.Services.GetRequiredService<IMeterFactory>(), "insights.queryapi.clickhouse.errors");

        using var response = await client.RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("clickhouse_unavailable", problem.Reason());
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.Contains(errors.Measurements, m => Equals(m.Tags["reason"], "clickhouse_unavailable"));

        using var ready = await client.RequestAsync("/readyz");
        using var live = await client.RequestAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode); // a restart cannot fix ClickHouse: liveness stays green
    }

    [Fact]
    public async Task A_clickhouse_that_never_answers_is_a_503_after_the_query_timeout_not_a_hang()
    {
        // Accepts connections (the OS completes the handshake) and never says a word.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var settings = TestSites.Settings($"Host=127.0.0.1;Port={((IPEndPoint)silent.LocalEndpoint).Port};Username=default;Password=", "insights");
        settings["QueryApi:QueryTimeoutSeconds"] = "1";
        await using var api = new QueryApiFactory(settings);

        using var response = await api.CreateClient().RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);

        Assert.Equal("clickhouse_timeout", (await response.ProblemAsync(HttpStatusCode.ServiceUnavailable)).Reason());
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Refusals_are_decided_without_asking_clickhouse()
    {
        // With ClickHouse unreachable, anything that asked it would be a 503.
        await using var api = new QueryApiFactory(TestSites.Settings($"Host=127.0.0.1;Port={ClosedPort()};Username=default;Password=", "insights"));
        var client = api.CreateClient();

        using var noKey = await client.RequestAsync("/v1/sites/shop/stats" + Range);
        using var writeKey = await client.RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopWrite);
        using var otherSite = await client.RequestAsync("/v1/sites/other/stats" + Range, bearer: TestSites.ShopRead);
        using var badRange = await client.RequestAsync("/v1/sites/shop/stats?from=2026-05-02&to=2026-05-01", bearer: TestSites.ShopRead);

        await noKey.ProblemAsync(HttpStatusCode.Unauthorized);
        await writeKey.ProblemAsync(HttpStatusCode.Forbidden);
        await otherSite.ProblemAsync(HttpStatusCode.NotFound);
        await badRange.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Before_the_processors_migrate_it_is_503_and_not_ready_then_it_serves()
    {
        var database = await EventsDatabase.CreateEmptyAsync(stack);
        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), database));
        var client = api.CreateClient();

        using var before = await client.RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);
        using var notReady = await client.RequestAsync("/readyz");

        var problem = await before.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("schema_missing", problem.Reason());
        Assert.Contains("processors", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotNull(before.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        var readiness = JsonSerializer.Deserialize<JsonElement>(await notReady.Content.ReadAsStringAsync(Http.Ct));
        Assert.Contains("processors", readiness.GetProperty("checks").GetProperty("clickhouse").GetProperty("description").GetString(), StringComparison.Ordinal);

        await new SchemaMigrator(new ClickHouseStorageOptions { ConnectionString = stack.ConnectionString(), Database = database },
            NullLogger<SchemaMigrator>.Instance).MigrateAsync(Http.Ct);

        using var ready = await client.RequestAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(0, (await client.StatsAsync(Range)).PageViews);
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_reported_as_schema_missing()
    {
        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), $"missing_{Guid.NewGuid():N}"));

        using var response = await api.CreateClient().RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);

        Assert.Equal("schema_missing", (await response.ProblemAsync(HttpStatusCode.ServiceUnavailable)).Reason());
    }

    [Fact]
    public async Task A_clickhouse_outage_is_503_and_the_same_numbers_come_back_after_it()
    {
        // A private dev stack: taking ClickHouse down must not disturb the tests sharing the assembly's stack.
        var work = Directory.CreateTempSubdirectory("queryapi-outage-").FullName;
        try
        {
            await using var privateStack = DevStackProcess.Start(Path.Combine(work, "clickhouse"), Path.Combine(work, "devstack.env"));
            var url = new Uri((await privateStack.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)))["INSIGHTS_CLICKHOUSE_URL"]);
            var connectionString = $"Host={url.Host};Port={url.Port};Username=default;Password=";
            await new SchemaMigrator(new ClickHouseStorageOptions { ConnectionString = connectionString, Database = "insights" },
                NullLogger<SchemaMigrator>.Instance).MigrateAsync(Http.Ct);
            using (var client = new ClickHouse.Driver.ClickHouseClient(connectionString + ";Database=insights"))
            {
                await client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "anonymous_id", "path"],
                    [["a", "shop", "pageview", new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc), "v1", "/"]], cancellationToken: Http.Ct);
            }

            await using var api = new QueryApiFactory(TestSites.Settings(connectionString, "insights"));
            var http = api.CreateClient();
            using var admin = new HttpClient { BaseAddress = url };
            Assert.Equal(1, (await http.StatsAsync(Range)).PageViews);

            (await admin.PostAsync(new Uri("/_devstack/clickhouse/down", UriKind.Relative), null, Http.Ct)).EnsureSuccessStatusCode();
            using var down = await http.RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);
            using var notReady = await http.RequestAsync("/readyz");
            (await admin.PostAsync(new Uri("/_devstack/clickhouse/up", UriKind.Relative), null, Http.Ct)).EnsureSuccessStatusCode();

            Assert.Equal("clickhouse_unavailable", (await down.ProblemAsync(HttpStatusCode.ServiceUnavailable)).Reason());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Equal(1, (await http.StatsAsync(Range)).PageViews);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless.
            }
        }
    }

    [Fact]
    public async Task A_query_clickhouse_rejects_is_a_500_problem_that_leaks_no_sql()
    {
        // Every table the overview reads, from some other schema: the report's SQL no longer fits them. (All of them: the
        // overview queries them at once, and a missing table is a 503 schema_missing, not this case.)
        var database = await EventsDatabase.CreateEmptyAsync(stack);
        using (var client = new ClickHouse.Driver.ClickHouseClient(stack.ConnectionString(database)))
        {
            foreach (var table in new[] { "events", "sessions", "visitor_quarters", "stats_quarter_state", "stats_quarters" })
            {
                await client.ExecuteNonQueryAsync($"CREATE TABLE {table} (other_id String) ENGINE = MergeTree ORDER BY other_id", cancellationToken: Http.Ct);
            }
        }

        await using var api = new QueryApiFactory(TestSites.Settings(stack.ConnectionString(), database));
        using var errors = new MetricRecorder(api.Services.GetRequiredService<IMeterFactory>(), "insights.queryapi.clickhouse.errors");

        using var response = await api.CreateClient().RequestAsync("/v1/sites/shop/stats" + Range, bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("SELECT", problem.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(errors.Measurements, m => Equals(m.Tags["reason"], "query_failed"));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
