using System.Diagnostics;
using System.Net;
using Insights.Enrichment.Company;

namespace Insights.Enrichment.Tests;

public sealed class ReverseDnsTests
{
    private sealed class FakeResolver(Func<IPAddress, Task<string?>> answer) : IReverseDnsResolver
    {
        public int Calls;

        public Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return answer(address);
        }
    }

    [Fact]
    public async Task A_businesss_domain_from_reverse_DNS_appears_on_its_later_events()
    {
        var resolver = new FakeResolver(_ => Task.FromResult<string?>("gw-edm-01.albertahealthservices.ca"));
        await using var pipeline = Pipelines.Create(o =>
        {
            o.AsnCsvIpv4 = TestData.File("asn-doc-ranges.csv");
            o.ReverseDns.Enabled = true;
        }, resolver: resolver);

        var first = pipeline.Enrich(Pipelines.Event("192.0.2.10"));
        Assert.Equal("Example Widgets, Inc.", first.Business?.Name);

        var domain = await Eventually(() => pipeline.Enrich(Pipelines.Event("192.0.2.10")).Business?.Domain);
        Assert.Equal("albertahealthservices.ca", domain);
        Assert.Equal("reverse_dns", pipeline.Enrich(Pipelines.Event("192.0.2.10")).Business?.DomainSource);
        Assert.Equal(1, resolver.Calls);
    }

    [Fact]
    public async Task A_resolver_that_never_answers_does_not_slow_a_batch()
    {
        var never = new TaskCompletionSource<string?>();
        var resolver = new FakeResolver(_ => never.Task);
        await using var pipeline = Pipelines.Create(o =>
        {
            o.AsnCsvIpv4 = TestData.File("asn-doc-ranges.csv");
            o.ReverseDns.Enabled = true;
            o.ReverseDns.TimeoutMilliseconds = 50;
            o.ReverseDns.Concurrency = 1;
            o.ReverseDns.QueueSize = 2;
        }, resolver: resolver);

        var clock = Stopwatch.StartNew();
        var batch = Enumerable.Range(0, 100).Select(i => Pipelines.Event($"192.0.2.{i}")).ToArray();
        pipeline.Enrich(batch, new EnrichedEvent[batch.Length]);
        clock.Stop();

        // No timing assertion: the point is that Enrich returned while every lookup is still pending.
        Assert.False(never.Task.IsCompleted);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Null(pipeline.Enrich(Pipelines.Event($"192.0.2.{i}")).Business?.Domain));
        never.SetResult(null);
    }

    [Fact]
    public async Task Consumer_ISPs_and_own_ranges_are_never_looked_up()
    {
        var resolver = new FakeResolver(_ => Task.FromResult<string?>("example.org"));
        await using var pipeline = Pipelines.Create(o =>
        {
            o.AsnCsvIpv4 = TestData.File("asn-doc-ranges.csv");
            o.CompanyRanges = [new() { Cidr = "192.0.2.64/26", Company = "Own" }];
            o.ReverseDns.Enabled = true;
        }, resolver: resolver);

        pipeline.Enrich(Pipelines.Event("198.51.100.7")); // Example Broadband: a consumer ISP
        pipeline.Enrich(Pipelines.Event("192.0.2.70"));   // the user's own range
        await Task.Delay(100, TestContext.Current.CancellationToken);

        Assert.Equal(0, resolver.Calls);
    }

    [Theory]
    [InlineData("gw1.acme.com", "1.2.3.4", "acme.com")]
    [InlineData("proxy.london.acme.co.uk.", "1.2.3.4", "acme.co.uk")]
    [InlineData("www.health.gov.au", "1.2.3.4", "health.gov.au")]
    [InlineData("81-2-69-160.static.aaisp.net.uk", "81.2.69.160", null)]
    [InlineData("host-1-2-3-4.isp.example", "1.2.3.4", null)]
    [InlineData("dsl-customer.isp.example", "1.2.3.4", null)]
    [InlineData("c-73-162-10-1.hsd1.ca.comcast.net", "73.162.10.1", null)]
    [InlineData("1.2.3.4", "1.2.3.4", null)]
    [InlineData("localhost", "1.2.3.4", null)]
    [InlineData("bad_host!.example.com", "1.2.3.4", null)]
    [InlineData("", "1.2.3.4", null)]
    public void Only_names_that_look_like_an_organizations_own_become_a_domain(string host, string ip, string? domain) =>
        Assert.Equal(domain, ReverseDnsDomain.FromHostName(host, ip));

    private static async Task<T?> Eventually<T>(Func<T?> probe)
        where T : class
    {
        for (var i = 0; i < 200; i++)
        {
            if (probe() is { } value)
            {
                return value;
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        return null;
    }
}
