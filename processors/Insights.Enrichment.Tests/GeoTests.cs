namespace Insights.Enrichment.Tests;

public sealed class GeoTests
{
    [Fact]
    public void An_IPv4_visitor_is_placed_by_the_DB_IP_city_file()
    {
        var geo = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1")).Geo;

        Assert.NotNull(geo);
        Assert.Equal(("CA", "Alberta"), (geo.CountryCode, geo.Region));
        Assert.StartsWith("Edmonton", geo.City, StringComparison.Ordinal);
        Assert.Equal(53.5, geo.Latitude!.Value, 0.5);
        Assert.Equal(-113.5, geo.Longitude!.Value, 0.5);
    }

    [Fact]
    public void An_IPv6_visitor_is_looked_up_in_the_IPv6_file_not_the_IPv4_one()
    {
        // Asked of the IPv4 file, 2001:218:: silently "finds" Ashburn, US (whatever 32.1.2.24 is);
        // the IPv6 file knows it as NTT in Tokyo.
        var geo = Pipelines.Real.Enrich(Pipelines.Event("2001:218::1")).Geo;

        Assert.NotNull(geo);
        Assert.Equal("JP", geo.CountryCode);
    }

    [Fact]
    public void An_IPv4_mapped_IPv6_address_is_placed_like_the_IPv4_address()
    {
        var mapped = Pipelines.Real.Enrich(Pipelines.Event("::ffff:139.48.1.1"));
        var plain = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1"));

        Assert.Equal(plain.Geo, mapped.Geo);
        Assert.Equal("Alberta Health Services", mapped.Business?.Name);
    }

    [Theory]
    [InlineData("GeoIP2-City-Test.mmdb", "81.2.69.160", "GB", "London")]
    [InlineData("GeoIP2-City-Test.mmdb", "2001:218::1", "JP", null)]
    [InlineData("GeoIP2-City-Test.mmdb", "::ffff:81.2.69.160", "GB", "London")]
    [InlineData("GeoLite2-City-Test.mmdb", "89.160.20.113", "SE", "Linköping")]
    [InlineData("GeoIP2-Enterprise-Test.mmdb", "2.125.160.217", "GB", "Boxford")]
    public void MaxMind_City_and_Enterprise_files_are_read_through_the_typed_reader(string file, string ip, string country, string? city)
    {
        using var pipeline = Pipelines.Create(o => o.CityDatabase = TestData.MaxMind(file));
        var geo = pipeline.Enrich(Pipelines.Event(ip, type: "track")).Geo;

        Assert.NotNull(geo);
        Assert.Equal((country, city), (geo.CountryCode, geo.City));
        Assert.True(pipeline.Status.IsOn("geo"));
    }

    [Fact]
    public void A_MaxMind_file_covers_both_families_so_the_DB_IP_IPv6_default_is_not_used()
    {
        var directory = TestData.RequireIpData();
        using var pipeline = Pipelines.Create(o =>
        {
            o.DataDirectory = directory;
            o.CityDatabase = TestData.MaxMind("GeoIP2-City-Test.mmdb");
            o.AsnCsvIpv4 = o.AsnCsvIpv6 = "";
        });

        // 2a02:cf40:: is Norway in the MaxMind test file and Denmark in DB-IP's.
        Assert.Equal("NO", pipeline.Enrich(Pipelines.Event("2a02:cf40::1")).Geo?.CountryCode);
    }

    [Fact]
    public void The_Enterprise_database_places_visitors_when_no_City_database_is_set()
    {
        using var pipeline = Pipelines.Create(o => o.EnterpriseDatabase = TestData.MaxMind("GeoIP2-Enterprise-Test.mmdb"));

        Assert.Equal("GB", pipeline.Enrich(Pipelines.Event("81.2.69.161")).Geo?.CountryCode);
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    public void Private_and_unknown_addresses_have_no_geo(string ip) =>
        Assert.Null(Pipelines.Real.Enrich(Pipelines.Event(ip)).Geo);
}
