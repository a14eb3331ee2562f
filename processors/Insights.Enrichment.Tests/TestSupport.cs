using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Insights.Contracts;
using Insights.Enrichment.Company;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Enrichment.Tests;

/// <summary>Paths to the test data shipped with this project and to the open data the fetch script caches.</summary>
internal static class TestData
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string MaxMind(string file) => Path.Combine(Directory, "maxmind", file);

    public static string File(string name) => Path.Combine(Directory, name);

    /// <summary>An empty data directory: every default file is missing, so every data-backed enrichment is off.</summary>
    public static string EmptyDataDirectory { get; } = System.IO.Directory.CreateTempSubdirectory("insights-enrichment-empty-").FullName;

    /// <summary>
    /// The open data from npm (crawler list, ASN CSV, DB-IP city files). scripts/setup.sh fetches it; a test that
    /// needs it fails with the command to run rather than skipping silently.
    /// </summary>
    public static string RequireIpData()
    {
        var directory = IpDataPackages.DefaultDirectory;
        string[] files =
        [
            IpDataPackages.CrawlerPatternsFile(directory), IpDataPackages.AsnCsvIpv4(directory), IpDataPackages.AsnCsvIpv6(directory),
            IpDataPackages.CityIpv4(directory), IpDataPackages.CityIpv6(directory),
        ];
        var missing = files.Where(f => !System.IO.File.Exists(f)).ToList();
        Assert.True(missing.Count == 0,
            $"The open IP data is not in the cache ({string.Join(", ", missing)}). Run scripts/fetch-ipdata.sh (scripts/setup.sh runs it).");
        return directory;
    }
}

/// <summary>Builds pipelines the way the processors' host would, with a log sink the tests can read.</summary>
internal static class Pipelines
{
    private static readonly IMeterFactory Meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    private static readonly Lazy<EnrichmentPipeline> RealData = new(() => Create(o => o.DataDirectory = TestData.RequireIpData()));

    /// <summary>One pipeline over the real open data, shared: loading 515k ASN ranges once is enough.</summary>
    public static EnrichmentPipeline Real
    {
        get
        {
            TestData.RequireIpData();
            return RealData.Value;
        }
    }

    public static EnrichmentPipeline Create(Action<EnrichmentOptions> configure, LogSink? log = null, IReverseDnsResolver? resolver = null,
        SiteCatalog? sites = null)
    {
        var options = new EnrichmentOptions { DataDirectory = TestData.EmptyDataDirectory };
        configure(options);
        var factory = LoggerFactory.Create(b => b.AddProvider(log ?? new LogSink()).SetMinimumLevel(LogLevel.Debug));
        return new EnrichmentPipeline(Options.Create(options), factory.CreateLogger<EnrichmentPipeline>(), new EnrichmentMetrics(Meters), resolver, sites);
    }

    /// <summary>Only the MaxMind test databases (no npm data): Enterprise + ISP + ASN for company, City for geo.</summary>
    public static EnrichmentPipeline MaxMindOnly(Action<EnrichmentOptions>? configure = null, SiteCatalog? sites = null) => Create(o =>
    {
        o.CityDatabase = TestData.MaxMind("GeoIP2-City-Test.mmdb");
        o.EnterpriseDatabase = TestData.MaxMind("GeoIP2-Enterprise-Test.mmdb");
        o.IspDatabase = TestData.MaxMind("GeoIP2-ISP-Test.mmdb");
        o.AsnDatabase = TestData.MaxMind("GeoLite2-ASN-Test.mmdb");
        configure?.Invoke(o);
    }, sites: sites);

    public static PipelineEvent Event(string? ip = "203.0.113.9", string? userAgent = Agents.ChromeWindows, string site = "shop", string type = EventTypes.Pageview) => new()
    {
        EventId = Guid.NewGuid().ToString("N"),
        Type = type,
        SiteId = site,
        AnonymousId = "visitor-1",
        Timestamp = DateTimeOffset.UnixEpoch,
        ReceivedAt = DateTimeOffset.UnixEpoch,
        Ip = ip,
        UserAgent = userAgent,
        Url = "https://shop.example/pricing",
    };
}

internal static class Agents
{
    public const string ChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    public const string SafariIphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
    public const string Googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
}

/// <summary>Captures log lines so tests can assert what an operator would read.</summary>
internal sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
