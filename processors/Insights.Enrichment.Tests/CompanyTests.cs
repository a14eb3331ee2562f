using Insights.Contracts;
using Insights.Enrichment.Company;
using Insights.Enrichment.Net;

namespace Insights.Enrichment.Tests;

public sealed class CompanyTests
{
    [Fact]
    public void Alberta_Health_Services_resolves_as_a_business_from_the_ASN_data()
    {
        var result = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1"));

        Assert.Null(result.DropReason);
        var company = Assert.IsType<CompanyMatch>(result.Business);
        Assert.Equal("Alberta Health Services", company.Name);
        Assert.Equal(16623, company.Asn);
        Assert.Equal(CompanySources.AsnCsv, company.Source);
        Assert.Equal(NetworkKinds.Business, company.Kind);
    }

    [Theory]
    [InlineData("73.162.10.1", NetworkKinds.ConsumerIsp)]   // Comcast
    [InlineData("79.192.10.1", NetworkKinds.ConsumerIsp)]   // Deutsche Telekom
    [InlineData("172.58.10.1", NetworkKinds.Mobile)]        // T-Mobile USA
    [InlineData("1.1.1.1", NetworkKinds.Cdn)]               // Cloudflare
    [InlineData("2601:600::1", NetworkKinds.ConsumerIsp)]   // Comcast, IPv6
    public void Consumer_ISPs_carriers_hosters_and_CDNs_are_never_shown_as_a_company(string ip, string kind)
    {
        var pipeline = Pipelines.Real;
        var result = pipeline.Enrich(Pipelines.Event(ip));

        Assert.NotNull(result.Company);
        Assert.Equal(kind, result.Company.Kind);
        Assert.False(result.Company.IsBusiness);
        Assert.Null(result.Business);
    }

    [Theory]
    [InlineData("104.248.10.1", "DigitalOcean, LLC")]
    [InlineData("2a01:4f8::1", "Hetzner Online GmbH")]
    [InlineData("52.95.110.1", "Amazon.com, Inc.")]
    public void Hosting_networks_are_datacenter_traffic_not_companies(string ip, string network)
    {
        var result = Pipelines.Real.Enrich(Pipelines.Event(ip));

        Assert.Equal(DropReasons.Datacenter, result.DropReason);
        Assert.Equal(network, result.BotName);
        Assert.Null(result.Business);
    }

    [Theory]
    [InlineData(EventTypes.Order)]
    [InlineData(EventTypes.ChatStarted)]
    [InlineData(EventTypes.Identify)]
    public void Server_side_events_from_a_data_centre_are_not_bot_traffic(string type)
    {
        // A shop backend on AWS posting an order is a real sale, not a crawler.
        var result = Pipelines.Real.Enrich(Pipelines.Event("52.95.110.1", type: type));

        Assert.Null(result.DropReason);
        Assert.Null(result.Business);
    }

    [Fact]
    public void Own_ranges_win_over_every_other_source()
    {
        // 214.78.0.0/23 is "US Department of Defense" (military) in the Enterprise test database.
        using var pipeline = Pipelines.MaxMindOnly(o => o.CompanyRanges =
        [
            new() { Cidr = "214.78.0.0/24", Company = "Acme Corp", Domain = "Acme.example" },
            new() { Cidr = "214.78.120.0/22", Company = "Starlink Customer Inc" },
        ]);

        var acme = pipeline.Enrich(Pipelines.Event("214.78.0.10")).Company!;
        Assert.Equal(("Acme Corp", "acme.example", CompanySources.UserRanges, 1f, true), (acme.Name, acme.Domain, acme.Source, acme.Confidence, acme.IsBusiness));

        // Residential by MaxMind (Starlink), but the user says it is theirs: the user wins.
        Assert.Equal("Starlink Customer Inc", pipeline.Enrich(Pipelines.Event("214.78.121.1")).Business?.Name);

        // Outside the ranges the Enterprise database answers.
        var dod = pipeline.Enrich(Pipelines.Event("214.78.1.1")).Business!;
        Assert.Equal(("US Department of Defense", "health.mil", CompanySources.GeoIP2Enterprise), (dod.Name, dod.Domain, dod.Source));
    }

    [Fact]
    public void A_sites_own_ranges_apply_to_that_site_only_and_win_over_global_ranges()
    {
        using var pipeline = Pipelines.Create(o => o.CompanyRanges =
        [
            new() { Cidr = "198.51.100.0/24", Company = "Global Name" },
            new() { Cidr = "198.51.100.0/25", Company = "Shop's Customer", Site = "shop" },
        ]);

        Assert.Equal("Shop's Customer", pipeline.Enrich(Pipelines.Event("198.51.100.5", site: "shop")).Business?.Name);
        Assert.Equal("Global Name", pipeline.Enrich(Pipelines.Event("198.51.100.5", site: "blog")).Business?.Name);
        Assert.Equal("Global Name", pipeline.Enrich(Pipelines.Event("198.51.100.200", site: "shop")).Business?.Name);
    }

    [Fact]
    public void Nested_ranges_resolve_to_the_most_specific_block_in_both_families()
    {
        using var pipeline = Pipelines.Create(o => o.CompanyRanges =
        [
            new() { Cidr = "10.0.0.0/8", Company = "HQ" },
            new() { Cidr = "10.1.0.0/16", Company = "Lab" },
            new() { Cidr = "10.1.2.3", Company = "Printer" },
            new() { Cidr = "2001:db8::/32", Company = "V6 HQ" },
            new() { Cidr = "2001:db8:42::/48", Company = "V6 Lab" },
            new() { Cidr = "::ffff:192.0.2.0/120", Company = "Mapped" },
        ]);

        string? Name(string ip) => pipeline.Enrich(Pipelines.Event(ip)).Business?.Name;
        Assert.Equal("HQ", Name("10.0.0.1"));
        Assert.Equal("Lab", Name("10.1.0.1"));
        Assert.Equal("Printer", Name("10.1.2.3"));
        Assert.Equal("Lab", Name("10.1.2.4"));
        Assert.Equal("HQ", Name("10.2.0.0"));
        Assert.Equal("HQ", Name("10.255.255.255"));
        Assert.Null(Name("11.0.0.0"));
        Assert.Equal("V6 HQ", Name("2001:db8:1::1"));
        Assert.Equal("V6 Lab", Name("2001:db8:42:ffff::1"));
        Assert.Equal("Mapped", Name("192.0.2.77"));
        Assert.Equal("Mapped", Name("::ffff:192.0.2.77"));
    }

    [Fact]
    public void Ranges_covering_the_whole_address_space_flatten_correctly()
    {
        var table = PrefixFlattener.Flatten(new List<(UInt128, UInt128, string)>
        {
            (0, UInt128.MaxValue, "all"),
            (UInt128.MaxValue - 255, UInt128.MaxValue, "top"),
            (0, 255, "bottom"),
        });

        Assert.Equal("bottom", table.Find(0));
        Assert.Equal("all", table.Find(256));
        Assert.Equal("top", table.Find(UInt128.MaxValue));
        Assert.Equal("all", table.Find(UInt128.MaxValue - 256));
    }

    [Theory]
    // Enterprise: user_type decides.
    [InlineData("214.78.1.1", true, NetworkKinds.Business, "US Department of Defense")]          // military
    [InlineData("89.160.20.113", true, NetworkKinds.Business, "Bevtec")]                          // government, Corporate
    [InlineData("214.78.120.5", false, NetworkKinds.ConsumerIsp, "Starlink")]                     // residential
    [InlineData("1.124.213.1", false, NetworkKinds.Mobile, "Iran Cell Service and Communication Company")] // cellular
    [InlineData("2001:0:d64e::1", true, NetworkKinds.Business, "US Department of Defense")]      // IPv6
    // Not in Enterprise; the ISP database: the organization differs from the ISP → its customer.
    [InlineData("8.33.16.1", true, NetworkKinds.Business, "Co-Mo Connect")]
    [InlineData("12.87.116.1", false, NetworkKinds.ConsumerIsp, "AT&T Services")]
    [InlineData("8.8.8.8", false, NetworkKinds.ConsumerIsp, "Level 3 Communications")]
    // Enterprise without a user_type: the AS number decides (AS6167, Verizon's carrier network).
    [InlineData("149.101.100.1", false, NetworkKinds.Mobile, "Verizon Wireless")]
    public void MaxMind_sources_are_classified_by_user_type_then_by_name(string ip, bool isBusiness, string kind, string name)
    {
        using var pipeline = Pipelines.MaxMindOnly();
        var company = pipeline.Enrich(Pipelines.Event(ip, type: "track")).Company;

        Assert.NotNull(company);
        Assert.Equal((isBusiness, kind, name), (company.IsBusiness, company.Kind, company.Name));
    }

    [Fact]
    public void The_MaxMind_ASN_database_answers_what_Enterprise_and_ISP_do_not_know()
    {
        using var pipeline = Pipelines.MaxMindOnly();

        // 1.0.0.1 is only in GeoLite2-ASN-Test (AS15169 "Google Inc."): a hoster, so datacenter traffic.
        var result = pipeline.Enrich(Pipelines.Event("1.0.0.1"));
        Assert.Equal((DropReasons.Datacenter, "Google Inc."), (result.DropReason, result.BotName));
    }

    [Fact]
    public void A_precise_sources_residential_verdict_is_not_overridden_by_a_vaguer_source()
    {
        // 65.116.3.80 is residential CenturyLink in Enterprise; the ASN CSV fixture calls the range a business.
        using var pipeline = Pipelines.MaxMindOnly(o => o.AsnCsvIpv4 = TestData.File("asn-doc-ranges.csv"));
        Assert.Equal(NetworkKinds.ConsumerIsp, pipeline.Enrich(Pipelines.Event("65.116.3.81")).Company?.Kind);
    }

    [Fact]
    public void MaxMind_domains_are_kept_only_when_they_are_the_organizations_own()
    {
        Assert.Equal("health.mil", MaxMindCompanySource.OrganizationDomain("health.mil", "US Air Force", "US Department of Defense"));
        Assert.Null(MaxMindCompanySource.OrganizationDomain("bredband2.com", "Bredband2 AB", "Bevtec"));
        Assert.Null(MaxMindCompanySource.OrganizationDomain("in-addr.arpa", "Andrews & Arnold Ltd", "STONEHOUSE office network"));
        Assert.Equal("acme.com", MaxMindCompanySource.OrganizationDomain("acme.com", "Acme", "Acme"));
    }

    [Fact]
    public void The_ASN_CSV_loads_text_and_numeric_rows_and_skips_malformed_ones()
    {
        var table = AsnTable.Load(TestData.File("asn-doc-ranges.csv"), TestData.File("asn-doc-ranges-v6.csv"));

        Assert.Equal(5, table.Report.MalformedRows);
        Assert.Equal(1, table.Report.Overlapping);
        Assert.Contains(table.Report.MalformedExamples, e => e.Contains("line 8", StringComparison.Ordinal));
        Assert.Equal("Example Widgets, Inc.", Find(table, "192.0.2.1")?.Name);
        Assert.True(Find(table, "192.0.2.1")!.IsBusiness);
        Assert.Equal(NetworkKinds.ConsumerIsp, Find(table, "198.51.100.1")?.Kind);      // "Example Broadband"
        Assert.Equal(NetworkKinds.Hosting, Find(table, "203.0.113.1")?.Kind);          // "Example Cloud Hosting"
        Assert.Equal("Numeric Row Org", Find(table, "192.0.2.200")?.Name);              // 3221226184 as a number
        Assert.Equal("Example Six GmbH", Find(table, "2001:db8::1")?.Name);
        Assert.Null(Find(table, "2001:db9::1"));
        Assert.Null(Find(table, "8.8.8.8"));
    }

    [Theory]
    [InlineData("Comcast Cable Communications, LLC", 7922L, NetworkKinds.ConsumerIsp)]
    [InlineData("Hostess Brands", null, NetworkKinds.Business)]
    [InlineData("Orange County Government", null, NetworkKinds.Business)]
    [InlineData("Spectrum Health", null, NetworkKinds.Business)]
    [InlineData("Wind River Systems", null, NetworkKinds.Business)]
    [InlineData("Vodafone Cloud Services", null, NetworkKinds.Hosting)]
    [InlineData("NordVPN hosting", null, NetworkKinds.Anonymizer)]
    [InlineData("Zscaler, Inc.", null, NetworkKinds.Anonymizer)]
    [InlineData("AT&T Enterprises, LLC", null, NetworkKinds.ConsumerIsp)]
    [InlineData("Telecomunicacoes de Sao Paulo", null, NetworkKinds.ConsumerIsp)]
    [InlineData("AS44477", null, NetworkKinds.Unknown)]
    [InlineData("", null, NetworkKinds.Unknown)]
    [InlineData("University of California, San Diego", 7377L, NetworkKinds.Business)]
    [InlineData("Akamai Technologies, Inc.", 36183L, NetworkKinds.Anonymizer)]   // iCloud Private Relay egress
    public void The_classifier_matches_names_on_word_boundaries_and_numbers_exactly(string name, long? asn, string kind) =>
        Assert.Equal(kind, NetworkClassifier.Classify(asn, name).Kind);

    private static CompanyMatch? Find(AsnTable table, string ip)
    {
        Assert.True(IpKey.TryParse(ip, out var key, out _));
        return table.Find(key);
    }
}
