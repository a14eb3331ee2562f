using Insights.Contracts;

namespace Insights.Enrichment.Tests;

public sealed class HostileInputTests
{
    public static TheoryData<string?> BadAddresses => new(new string?[]
    {
        null, "", " ", "garbage", "999.1.1.1", "1.2.3", "1.2.3.4.5", "1", "0x7f.0.0.1", "010.0.0.1", "1.2.3.4 ", " 1.2.3.4",
        "1.2.3.4\n", "1.2.3.4/24", "[::1]", "::::", "1::2::3", "gggg::1", "2001:db8::1/64", "1.2.3.-4", "１.２.３.４",
        new string('1', 10_000), "1.2.3.4" + new string(' ', 100), "\0", "2001:db8::1%", "::ffff:999.1.1.1",
    });

    [Theory]
    [MemberData(nameof(BadAddresses))]
    public void Text_that_is_not_an_address_yields_no_ip_geo_or_company(string? ip)
    {
        using var pipeline = Pipelines.MaxMindOnly(o => o.IpStorage = IpStorageMode.Full);
        var result = pipeline.Enrich(Pipelines.Event(ip));

        Assert.Null(result.Ip);
        Assert.Null(result.IpText);
        Assert.Null(result.Geo);
        Assert.Null(result.Company);
        Assert.Equal("Chrome", result.Device.Browser);
    }

    [Theory]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("::ffff:0:0", "0.0.0.0")]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4")]
    [InlineData("::FFFF:1.2.3.4", "1.2.3.4")]
    [InlineData("fe80::1%eth0", "fe80::1")]
    [InlineData("FE80::1%25", "fe80::1")]
    [InlineData("2002:c000:0204::1", "2002:c000:204::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("0:0:0:0:0:0:0:1", "::1")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    public void IPv6_and_edge_addresses_are_normalised_and_never_throw(string ip, string stored)
    {
        using var pipeline = Pipelines.MaxMindOnly(o => o.IpStorage = IpStorageMode.Full);
        Assert.Equal(stored, pipeline.Enrich(Pipelines.Event(ip)).IpText);
    }

    public static TheoryData<string> BadAgents => new()
    {
        "\0\0\0", "💥🔥" + new string('é', 300), "Mozilla/5.0 (", ")))(((", "Chrome/", "Chrome/99999999999999999999", "Version/-1 Safari/",
        "Windows NT ", "Android ", "Mac OS X ", "Mac OS X 10_", new string('A', 10_240),
        "Mozilla/5.0 " + string.Concat(Enumerable.Repeat("(KHTML, like Gecko) ", 600)),
        string.Concat(Enumerable.Repeat("Chrome/1 Safari/ Mobile Android iPad ", 300)),
        "ContextualBot" + new string('x', 10_000) + "outcomes.ne", // the list's [\s\S]* pattern, failing at the very end
    };

    [Theory]
    [MemberData(nameof(BadAgents))]
    public void Garbage_and_oversized_user_agents_never_throw(string userAgent)
    {
        var result = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1", userAgent));

        Assert.NotNull(result.Device);
        Assert.NotNull(result.Device.Browser);
    }

    [Fact]
    public void A_10_KB_agent_naming_a_crawler_at_its_end_is_still_caught()
    {
        var userAgent = new string('x', 10_240) + " Googlebot/2.1";
        Assert.Equal(DropReasons.Crawler, Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1", userAgent)).DropReason);
    }

    [Fact]
    public void A_batch_of_hostile_events_is_enriched_whole_in_order()
    {
        var hostile = BadAddresses.Select(row => (string?)row.Data).ToList();
        var batch = hostile.Select((ip, i) => Pipelines.Event(ip, i % 2 == 0 ? Agents.Googlebot : "\0garbage", type: EventTypes.Track))
            .Append(Pipelines.Event("139.48.1.1", Agents.ChromeWindows))
            .ToArray();
        var results = new EnrichedEvent[batch.Length];

        Pipelines.Real.Enrich(batch, results);

        Assert.Equal("Alberta Health Services", results[^1].Business?.Name);
        Assert.All(results[..^1], r => Assert.Null(r.Ip));
        Assert.Equal(DropReasons.Crawler, results[0].DropReason);
        Assert.Null(results[1].DropReason);
    }

    [Fact]
    public void A_results_span_shorter_than_the_batch_is_refused()
    {
        using var pipeline = Pipelines.Create(_ => { });
        Assert.Throws<ArgumentException>(() => pipeline.Enrich([Pipelines.Event(), Pipelines.Event()], new EnrichedEvent[1]));
    }
}
