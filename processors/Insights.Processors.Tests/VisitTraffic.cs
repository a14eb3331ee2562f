extern alias queryapi;

using Insights.DevStack.Testing;
using System.Globalization;
using System.Text.Json;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;
using Insights.Contracts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Insights.Processors.Tests;

/// <summary>
/// Visitors' events as the tracker would send them, from networks of known kinds in the real IP data the
/// processors load by default (scripts/fetch-ipdata.sh): the company behind an address is the data's answer, not a stub.
/// </summary>
internal static class VisitTraffic
{
    public const string Site = "demo";
    public const string ReadKey = "demo-read-key-0001";

    public const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    public const string SafariIphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
    public const string Googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    public const string HeadlessChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";

    /// <summary>AS16623 Alberta Health Services (a business, in the ASN data).</summary>
    public const string AlbertaHealth = "139.48.1.1";
    public const string AlbertaHealthOther = "139.48.200.7";

    /// <summary>AS196 The Boeing Company.</summary>
    public const string Boeing = "130.76.1.1";

    /// <summary>AS88 Princeton University (an organization: shown as a company).</summary>
    public const string Princeton = "128.112.1.1";

    /// <summary>Comcast (consumer ISP), T-Mobile USA (mobile carrier), Amazon (hosting): never companies.</summary>
    public const string Comcast = "73.162.10.1";
    public const string TMobile = "172.58.10.1";
    public const string Amazon = "52.95.110.1";

    private static int sequence;

    public static PipelineEvent View(string visitor, string path, DateTimeOffset at, string ip, string? referrer = null,
        string userAgent = Chrome, string site = Site) => new()
    {
        EventId = $"ev-{Interlocked.Increment(ref sequence):D6}-{Guid.NewGuid():N}",
        Type = EventTypes.Pageview,
        SiteId = site,
        AnonymousId = visitor,
        Timestamp = at,
        ReceivedAt = at.AddMilliseconds(120),
        Url = "https://shop.example.com" + path,
        Referrer = referrer,
        Title = "Page " + path,
        Ip = ip,
        UserAgent = userAgent,
        Locale = "en-CA",
    };

    public static PipelineEvent Engagement(string visitor, DateTimeOffset at, string ip, int engagedMs) => View(visitor, "/", at, ip) with
    {
        Type = EventTypes.Track,
        Name = "engagement",
        Url = null,
        Properties = JsonDocument.Parse($$"""{"engaged_ms":{{engagedMs}}}""").RootElement,
    };

    public static async Task<ulong> ScalarAsync(this Pipeline pipeline, string sql, params (string Name, object Value)[] parameters)
    {
        using var client = pipeline.ClickHouse();
        var collection = new ClickHouseParameterCollection();
        foreach (var (name, value) in parameters)
        {
            collection.AddParameter(name, value);
        }

        return Convert.ToUInt64(await client.ExecuteScalarAsync(sql, collection, cancellationToken: TestContext.Current.CancellationToken), CultureInfo.InvariantCulture);
    }

    public static async Task<List<Dictionary<string, object>>> RowsAsync(this Pipeline pipeline, string sql, params (string Name, object Value)[] parameters)
    {
        using var client = pipeline.ClickHouse();
        var collection = new ClickHouseParameterCollection();
        foreach (var (name, value) in parameters)
        {
            collection.AddParameter(name, value);
        }

        using var reader = await client.ExecuteReaderAsync(sql, collection, cancellationToken: TestContext.Current.CancellationToken);
        var rows = new List<Dictionary<string, object>>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            var row = new Dictionary<string, object>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Waits until the processor wrote the sessions of <paramref name="visitors"/> visitors (and every event of the pipeline).</summary>
    public static async Task WaitForAsync(this Pipeline pipeline, int events, int sessions, Func<string>? context = null)
    {
        await Eventually.EqualAsync((ulong)events, pipeline.CountFinalAsync, "events stored", context: context);
        await Eventually.EqualAsync((ulong)sessions, () => pipeline.ScalarAsync("SELECT count() FROM sessions FINAL"), "sessions stored", context: context);
    }
}

/// <summary>The query API in this process over a test's database, with the demo site's read key.</summary>
internal sealed class InProcessQueryApi(Pipeline pipeline) : WebApplicationFactory<queryapi::Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting(TestDataDirectories.Setting, TestDataDirectories.New());
        builder.UseSetting("ClickHouse:ConnectionString", pipeline.ClickHouseConnectionString);
        builder.UseSetting("ClickHouse:Database", pipeline.Database);
        builder.UseSetting("Sites:0:Id", VisitTraffic.Site);
        builder.UseSetting("Sites:0:TimeZone", "UTC");
        builder.UseSetting("Sites:0:WriteKeys:0", "demo-write-key-0001");
        builder.UseSetting("Sites:0:ReadKeys:0", VisitTraffic.ReadKey);
    }
}
