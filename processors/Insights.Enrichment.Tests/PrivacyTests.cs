using Insights.Contracts;
namespace Insights.Enrichment.Tests;

public sealed class PrivacyTests
{
    private static EnrichmentPipeline Pipeline() => Pipelines.MaxMindOnly(o =>
    {
        o.IpStorage = IpStorageMode.Truncated;
        o.SiteIpStorage = new() { ["full-site"] = IpStorageMode.Full, ["anon-site"] = IpStorageMode.None };
    });

    [Theory]
    [InlineData("full-site", "89.160.20.113", "89.160.20.113")]
    [InlineData("shop", "89.160.20.113", "89.160.20.0")]
    [InlineData("anon-site", "89.160.20.113", null)]
    [InlineData("full-site", "2001:db8:1234:5678:9abc::1", "2001:db8:1234:5678:9abc::1")]
    [InlineData("shop", "2001:db8:1234:5678:9abc::1", "2001:db8:1234::")]
    [InlineData("anon-site", "2001:db8:1234:5678:9abc::1", null)]
    [InlineData("full-site", "::ffff:89.160.20.113", "89.160.20.113")]
    [InlineData("shop", "::ffff:89.160.20.113", "89.160.20.0")]
    public void The_sites_mode_decides_what_is_kept_of_the_IP(string site, string ip, string? kept)
    {
        using var pipeline = Pipeline();
        var result = pipeline.Enrich(Pipelines.Event(ip, site: site));

        Assert.Equal(kept, result.IpText);
        Assert.Equal(kept, result.Ip?.ToString());
    }

    [Fact]
    public void A_sites_privacy_mode_in_the_control_plane_wins_and_a_change_applies_to_the_next_events()
    {
        var catalog = new SiteCatalog([new SiteOptions { Id = "full-site", IpStorage = IpStorageMode.None }, new SiteOptions { Id = "shop" }]);
        using var pipeline = Pipelines.MaxMindOnly(o => o.SiteIpStorage = new() { ["full-site"] = IpStorageMode.Full }, catalog);
        Assert.Null(pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "full-site")).IpText);
        Assert.Equal("89.160.20.0", pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "shop")).IpText);

        // The owner relaxes one site and tightens the other.
        catalog.Replace([new SiteOptions { Id = "full-site" }, new SiteOptions { Id = "shop", IpStorage = IpStorageMode.None }], []);

        Assert.Equal("89.160.20.113", pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "full-site")).IpText);
        Assert.Null(pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "shop")).IpText);
    }

    [Fact]
    public void Anonymisation_happens_after_lookup_so_no_mode_loses_geo_or_company()
    {
        using var pipeline = Pipeline();
        var anonymous = pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "anon-site"));

        Assert.Null(anonymous.Ip);
        Assert.Equal("Bevtec", anonymous.Business?.Name);
        Assert.Equal("SE", anonymous.Geo?.CountryCode);
    }

    [Fact]
    public void With_mode_none_no_public_member_of_the_result_holds_the_address()
    {
        using var pipeline = Pipeline();
        var result = pipeline.Enrich(Pipelines.Event("89.160.20.113", site: "anon-site"));

        // Reflect over every public property, recursively one level into the records it points at.
        var texts = typeof(EnrichedEvent).GetProperties()
            .Select(p => p.GetValue(result))
            .SelectMany(v => v is null || v is string ? [v] : v.GetType().GetProperties().Select(p => p.GetValue(v)).Prepend(v.ToString()))
            .Select(v => v?.ToString() ?? "");
        Assert.DoesNotContain(texts, t => t.Contains("89.160.20", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_mode_is_truncated()
    {
        Assert.Equal(IpStorageMode.Truncated, new EnrichmentOptions().IpStorage);
        using var pipeline = Pipelines.Create(_ => { });
        Assert.Equal("203.0.113.0", pipeline.Enrich(Pipelines.Event("203.0.113.9")).IpText);
    }

    [Fact]
    public void The_same_IP_keeps_each_sites_mode_when_served_from_the_cache()
    {
        using var pipeline = Pipeline();
        PipelineEventBatch(pipeline, out var results);

        Assert.Equal(["89.160.20.113", "89.160.20.0", null, "89.160.20.113"], results.Select(r => r.IpText));
    }

    private static void PipelineEventBatch(EnrichmentPipeline pipeline, out EnrichedEvent[] results)
    {
        Contracts.PipelineEvent[] batch =
        [
            Pipelines.Event("89.160.20.113", site: "full-site"),
            Pipelines.Event("89.160.20.113", site: "shop"),
            Pipelines.Event("89.160.20.113", site: "anon-site"),
            Pipelines.Event("89.160.20.113", site: "full-site"),
        ];
        results = new EnrichedEvent[batch.Length];
        pipeline.Enrich(batch, results);
    }
}
