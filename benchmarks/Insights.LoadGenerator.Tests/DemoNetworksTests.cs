using Insights.Contracts;
using Insights.Enrichment;
using Insights.LoadGenerator.Demo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.LoadGenerator.Tests;

/// <summary>
/// The demo's visitors resolve through the real enrichment over the real open data as the processors resolve them:
/// company networks to that company, ISP networks to no company. A data update or a classifier change that turns one
/// of them into something else fails here, not as an empty Companies page.
/// </summary>
public sealed class DemoNetworksTests(RealEnrichment real) : IClassFixture<RealEnrichment>
{
    private readonly EnrichmentPipeline pipeline = real.Pipeline;

    public static TheoryData<string> Companies => [.. DemoNetworks.Companies.Select(c => c.Holder)];

    public static TheoryData<string> Isps => [.. DemoNetworks.Residential.Select(c => c.Holder)];

    [Theory]
    [MemberData(nameof(Companies))]
    public void Every_address_of_a_company_network_resolves_to_that_company_with_a_country(string holder)
    {
        var network = DemoNetworks.Companies.First(c => c.Holder == holder);
        foreach (var n in new[] { 0, 1, 57, 199, 5000 })
        {
            var result = pipeline.Enrich(Event(network.Address(n)));
            Assert.False(result.IsDropped, $"{network.Address(n)} dropped as {result.DropReason}");
            Assert.Equal(holder, result.Business?.Name);
            Assert.NotNull(result.Geo?.CountryCode);
        }
    }

    [Theory]
    [MemberData(nameof(Isps))]
    public void An_isp_network_is_a_visitor_with_a_country_but_never_a_company(string holder)
    {
        var network = DemoNetworks.Residential.First(c => c.Holder == holder);
        foreach (var n in new[] { 0, 1, 4242, 100_000, (1 << 18) - 1 })
        {
            var result = pipeline.Enrich(Event(network.Address(n)));
            Assert.False(result.IsDropped, $"{network.Address(n)} dropped as {result.DropReason}");
            Assert.Null(result.Business);
            Assert.Equal(holder, result.Company?.Name);
            Assert.NotNull(result.Geo?.CountryCode);
        }
    }

    private static PipelineEvent Event(string ip) => new()
    {
        EventId = Guid.NewGuid().ToString("N"),
        Type = EventTypes.Pageview,
        SiteId = "demo",
        AnonymousId = "visitor-1",
        Timestamp = DateTimeOffset.UnixEpoch,
        ReceivedAt = DateTimeOffset.UnixEpoch,
        Ip = ip,
        UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        Url = "https://shop.example/pricing",
    };
}

/// <summary>One pipeline over the real open data for the whole class: loading 515k ASN ranges once is enough.</summary>
public sealed class RealEnrichment : IDisposable
{
    public RealEnrichment()
    {
        var directory = IpDataPackages.DefaultDirectory;
        Assert.True(File.Exists(Path.Combine(directory, IpDataPackages.Asn, "asn-ipv4-num.csv")),
            $"The open IP data is not in {directory}. Run {IpDataPackages.FetchScript} (scripts/setup.sh runs it).");
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Pipeline = new EnrichmentPipeline(Options.Create(new EnrichmentOptions { DataDirectory = directory }),
            NullLogger<EnrichmentPipeline>.Instance, new EnrichmentMetrics(meters));
    }

    public EnrichmentPipeline Pipeline { get; }

    public void Dispose() => Pipeline.Dispose();
}
