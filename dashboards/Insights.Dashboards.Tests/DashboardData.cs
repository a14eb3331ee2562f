using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Attribution.Tests.Support;
using Insights.Contracts;
using Insights.DevStack.Testing;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Dashboards.Tests;

/// <summary>
/// A small known data set in a migrated database of the dev stack: page views (with companies, countries, a bot and a
/// campaign) and visits written as the processors write them, chats, identities and orders attributed by the real
/// attribution step, and a few visitors active right now. The query API runs in memory over the same
/// database, so a board's number and the API's can be compared.
/// </summary>
public sealed class DashboardData(DevStackFixture stack) : IAsyncLifetime
{
    /// <summary>The day every report-range panel looks at (UTC, the site's zone).</summary>
    public static readonly DateTimeOffset Day = new(2026, 5, 4, 0, 0, 0, TimeSpan.Zero);

    public DevStackPipeline Pipeline { get; private set; } = null!;

    public DevStackPipeline.QueryApi Api { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Pipeline = await DevStackPipeline.CreateAsync(stack);
        var d = Day;
        var pageviews = new (PipelineEvent Event, string Company, string Country, string Referrer, string Campaign)[]
        {
            (Pageview("v1", d.Hours(9.9), "https://shop.example/product"), "acme", "DE", "news.example", "spring"),
            (Pageview("v2", d.Hours(11.9), "https://shop.example/cart"), "", "FR", "", ""),
            (Pageview("v2", d.Hours(12.02), "https://shop.example/thank-you"), "", "FR", "", ""),
            (Pageview("v3", d.Hours(12.9), "https://shop.example/product"), "acme", "DE", "", ""),
            (Pageview("v3", d.Hours(13.02), "https://shop.example/thank-you"), "acme", "DE", "", ""),
            (Pageview("v4", d.Hours(13.9), "https://shop.example/product"), "globex", "US", "", ""),
        };
        var rows = pageviews.Select(p => new EventRow(p.Event.EventId, p.Event.AnonymousId!, p.Event.Timestamp, new Uri(p.Event.Url!).AbsolutePath,
            Company: p.Company, Country: p.Country, Referrer: p.Referrer, Campaign: p.Campaign)).ToList();
        rows.Add(new EventRow("bot-1", "bot1", d.Hours(10), "/product", Bot: "crawler", Country: "US"));
        await InsertEventsAsync(rows);

        // Visits as the sessions processor writes them; s1 twice, an older, shorter version first and in its own insert (one
        // insert collapses its own duplicates), so the table holds both until a merge and only FINAL hides the old one.
        await InsertSessionsAsync([new SessionRow("s1", "v1", d.Hours(9.9), d.Hours(9.9), 1, ["/product"], "acme", 1)]);
        using (var client = Pipeline.ClickHouse())
        {
            await client.ExecuteNonQueryAsync("SYSTEM STOP MERGES sessions", cancellationToken: Ct);
        }

        await InsertSessionsAsync(
        [
            new SessionRow("s1", "v1", d.Hours(9.9), d.Hours(10.2), 2, ["/product", "/pricing"], "acme", 2),
            new SessionRow("s2", "v2", d.Hours(11.9), d.Hours(12.02), 2, ["/cart", "/thank-you"], "", 2),
            new SessionRow("s3", "v3", d.Hours(12.9), d.Hours(13.02), 2, ["/product", "/thank-you"], "acme", 2),
            new SessionRow("s4", "v4", d.Hours(13.9), d.Hours(13.9), 1, ["/product"], "globex", 1),
        ]);

        // Attributed as the processors attribute their batches; the processors themselves do not run: this fixture writes
        // their tables itself.
        await Pipeline.AttributeAsync(
        [
            .. pageviews.Select(p => p.Event),
            // v1 (a laptop) chats with ann; v2 (a phone) is the same user and buys for 100 EUR (110 USD).
            ChatStarted("c1", "v1", d.Hours(10), agent: "ann", channel: "website"),
            ChatMessage("c1", "v1", d.Hours(10.1)),
            ChatEnded("c1", "v1", d.Hours(10.3), agent: "ann"),
            Identify("v1", d.Hours(10.3), user: "u1"),
            Identify("v2", d.Hours(11.9), user: "u1"),
            Order("o1", "v2", d.Hours(12), 100m, "EUR"),
            // v3 buys without a chat.
            Order("o2", "v3", d.Hours(13), 50m, "USD"),
            // v4 chats with bob on WhatsApp and buys for 30 USD during the chat, then gets 10 back.
            ChatStarted("c2", "v4", d.Hours(14), agent: "bob", channel: "whatsapp"),
            Order("o3", "v4", d.Hours(14).AddMinutes(10), 30m, "USD"),
            Refund("o3", d.Hours(15), 10m, "USD"),
        ]);

        // Right now (written last, so a slow attribution run cannot age them out of the 5 minutes): two visitors (one from
        // Acme), a crawler, and a visitor gone for ten minutes.
        var now = DateTimeOffset.UtcNow;
        await InsertEventsAsync(
        [
            new EventRow("live-1", "live-a", now.AddSeconds(-40), "/pricing", Company: "acme", Country: "DE"),
            new EventRow("live-2", "live-b", now.AddSeconds(-50), "/", Country: "FR"),
            new EventRow("live-3", "live-b", now.AddSeconds(-20), "/docs", Country: "FR"),
            new EventRow("live-4", "live-bot", now.AddSeconds(-20), "/pricing", Bot: "crawler", Country: "US"),
            new EventRow("live-5", "old-c", now.AddMinutes(-10), "/old", Country: "US"),
        ]);

        Api = Pipeline.StartQueryApi();
        Client = Api.CreateClient();
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevStackPipeline.ReadKey);
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
    }

    /// <summary>A query API report as JSON; fails with the server's log when it is not a 200.</summary>
    public async Task<JsonElement> ApiAsync(string pathAndQuery)
    {
        using var response = await Client.GetAsync(new Uri(pathAndQuery, UriKind.Relative), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{pathAndQuery}: {(int)response.StatusCode} {body}\n{Api.Log.Text}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    /// <summary>A panel's query as the data source would run it: on the data source's database (here the test's).</summary>
    public async Task<QueryResult> RunAsync(PanelQuery query, GrafanaMacros macros)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(macros);
        var sql = macros.Expand(query.Sql).Replace("insights.", Pipeline.Database + ".", StringComparison.Ordinal);
        using var client = Pipeline.ClickHouse();
        try
        {
            using var reader = await client.ExecuteReaderAsync(sql, new ClickHouseParameterCollection(), cancellationToken: Ct);
            return await QueryResult.ReadAsync(reader);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{query} failed: {e.Message}\n{sql}", e);
        }
    }

    private sealed record EventRow(string Id, string Visitor, DateTimeOffset At, string Path, string Bot = "", string Company = "", string Country = "",
        string Referrer = "", string Campaign = "");

    private sealed record SessionRow(string Id, string Visitor, DateTimeOffset Started, DateTimeOffset Ended, uint PageViews, string[] Pages,
        string Company, ulong Version);

    private static (string Id, string Name, string Domain, string Kind) Company(string key) => key switch
    {
        "acme" => ("acme-corp-1f2e", "Acme Corp", "acme.example", "business"),
        "globex" => ("globex-7a1b", "Globex", "globex.example", "business"),
        _ => ("", "", "", "isp"),
    };

    private async Task InsertEventsAsync(IEnumerable<EventRow> rows)
    {
        var types = new Dictionary<string, string>
        {
            ["event_id"] = "String", ["site_id"] = "LowCardinality(String)", ["type"] = "LowCardinality(String)",
            ["timestamp"] = "DateTime64(3, 'UTC')", ["received_at"] = "DateTime64(3, 'UTC')", ["anonymous_id"] = "String", ["url"] = "String",
            ["path"] = "String", ["referrer_host"] = "String", ["utm_source"] = "String", ["utm_medium"] = "String", ["utm_campaign"] = "String",
            ["bot_reason"] = "LowCardinality(String)", ["country"] = "LowCardinality(String)", ["device_type"] = "LowCardinality(String)",
            ["network_kind"] = "LowCardinality(String)", ["company_id"] = "String", ["company_name"] = "String", ["company_domain"] = "String",
        };
        using var client = Pipeline.ClickHouse();
        await client.InsertBinaryAsync("events", [.. types.Keys], rows.Select(r =>
        {
            var company = Company(r.Company);
            return new object[]
            {
                r.Id, Site, "pageview", r.At.UtcDateTime, r.At.UtcDateTime, r.Visitor, "https://shop.example" + r.Path, r.Path, r.Referrer,
                r.Campaign.Length > 0 ? "newsletter" : "", r.Campaign.Length > 0 ? "email" : "", r.Campaign, r.Bot, r.Country,
                "desktop", company.Kind, company.Id, company.Name, company.Domain,
            };
        }), new InsertOptions { ColumnTypes = types }, Ct);
    }

    private async Task InsertSessionsAsync(IEnumerable<SessionRow> rows)
    {
        var types = new Dictionary<string, string>
        {
            ["session_id"] = "String", ["site_id"] = "LowCardinality(String)", ["anonymous_id"] = "String", ["opened_at"] = "DateTime64(3, 'UTC')",
            ["started_at"] = "DateTime64(3, 'UTC')", ["ended_at"] = "DateTime64(3, 'UTC')", ["page_views"] = "UInt32", ["events"] = "UInt32",
            ["entry_page"] = "String", ["exit_page"] = "String", ["pages"] = "Array(String)", ["network_kind"] = "LowCardinality(String)",
            ["company_id"] = "String", ["company_name"] = "String", ["company_domain"] = "String", ["version"] = "UInt64",
        };
        using var client = Pipeline.ClickHouse();
        await client.InsertBinaryAsync("sessions", [.. types.Keys], rows.Select(r =>
        {
            var company = Company(r.Company);
            return new object[]
            {
                r.Id, Site, r.Visitor, r.Started.UtcDateTime, r.Started.UtcDateTime, r.Ended.UtcDateTime, r.PageViews, r.PageViews,
                r.Pages[0], r.Pages[^1], r.Pages, company.Kind, company.Id, company.Name, company.Domain, r.Version,
            };
        }), new InsertOptions { ColumnTypes = types }, Ct);
    }
}

/// <summary>A query's columns and rows, values as the driver returns them.</summary>
public sealed class QueryResult
{
    public required IReadOnlyList<string> Columns { get; init; }

    public required IReadOnlyList<Type> Types { get; init; }

    public required IReadOnlyList<object?[]> Rows { get; init; }

    public object? this[int row, string column] => Rows[row][Index(column)];

    public int Index(string column)
    {
        var index = Columns.ToList().IndexOf(column);
        Assert.True(index >= 0, $"no column '{column}' among {string.Join(", ", Columns)}");
        return index;
    }

    public decimal Money(int row, string column) => this[row, column] is { } value ? Convert.ToDecimal(value, CultureInfo.InvariantCulture) : 0m;

    public long Long(int row, string column) => Convert.ToInt64(this[row, column], CultureInfo.InvariantCulture);

    public double Double(int row, string column) => Convert.ToDouble(this[row, column], CultureInfo.InvariantCulture);

    public string Text(int row, string column) => Convert.ToString(this[row, column], CultureInfo.InvariantCulture) ?? "";

    public static async Task<QueryResult> ReadAsync(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var types = Enumerable.Range(0, reader.FieldCount).Select(reader.GetFieldType).ToList();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i))]);
        }

        return new QueryResult { Columns = columns, Types = types, Rows = rows };
    }
}
