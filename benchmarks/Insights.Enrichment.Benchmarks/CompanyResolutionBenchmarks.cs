using BenchmarkDotNet.Attributes;
using Insights.Enrichment.Caching;

namespace Insights.Enrichment.Benchmarks;

/// <summary>
/// Company (and geo) resolution per IP: on a cache hit, and on a miss — the parse plus every database lookup
/// (DB-IP city, ASN CSV) that a new IP costs. Per lookup, over 1,000 distinct addresses.
/// </summary>
[MemoryDiagnoser]
public class CompanyResolutionBenchmarks
{
    private string[] v4 = [];
    private string[] v6 = [];
    private int[] v4Hashes = [];
    private int[] v6Hashes = [];
    private EnrichmentPipeline pipeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        var addresses = BenchmarkData.Addresses();
        v4 = [.. addresses.Where(a => !a.Contains(':', StringComparison.Ordinal))];
        v6 = [.. addresses.Where(a => a.Contains(':', StringComparison.Ordinal))];
        v4Hashes = [.. v4.Select(BoundedCache<IpIntel>.HashOf)];
        v6Hashes = [.. v6.Select(BoundedCache<IpIntel>.HashOf)];
        pipeline = BenchmarkData.Pipeline();
        var counts = new BatchCounts();
        foreach (var address in addresses)
        {
            pipeline.Ip(address, ref counts);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => pipeline.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = 800)]
    public object? CacheHit()
    {
        var counts = new BatchCounts();
        object? last = null;
        for (var i = 0; i < 800; i++)
        {
            last = pipeline.Ip(v4[i % v4.Length], ref counts).Company;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = 800)]
    public object? CacheMissIPv4()
    {
        object? last = null;
        for (var i = 0; i < 800; i++)
        {
            last = pipeline.LookUp(v4[i % v4.Length], v4Hashes[i % v4.Length]);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = 200)]
    public object? CacheMissIPv6()
    {
        object? last = null;
        for (var i = 0; i < 200; i++)
        {
            last = pipeline.LookUp(v6[i % v6.Length], v6Hashes[i % v6.Length]);
        }

        return last;
    }

    /// <summary>The company part of a miss alone: parse, then the ranges and the ASN table's binary search.</summary>
    [Benchmark(OperationsPerInvoke = 800)]
    public object? CompanyOnlyMissIPv4()
    {
        object? last = null;
        for (var i = 0; i < 800; i++)
        {
            Net.IpKey.TryParse(v4[i % v4.Length], out var key, out var address);
            last = pipeline.Sources.Company.Resolve(key, address!);
        }

        return last;
    }
}
