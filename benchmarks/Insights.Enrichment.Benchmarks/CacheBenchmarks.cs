using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Insights.Enrichment.Caching;

namespace Insights.Enrichment.Benchmarks;

/// <summary>The IP cache's design choice: the 4-way set-associative array against a ConcurrentDictionary, on hits.</summary>
[MemoryDiagnoser]
public class CacheBenchmarks
{
    private sealed record Entry(string Key, int Hash) : ICacheEntry;

    private readonly BoundedCache<Entry> setAssociative = new(131_072);
    private readonly ConcurrentDictionary<string, Entry> dictionary = new(StringComparer.Ordinal);
    private string[] keys = [];

    [GlobalSetup]
    public void Setup()
    {
        keys = BenchmarkData.Addresses(1_024);
        foreach (var key in keys)
        {
            var entry = new Entry(key, BoundedCache<Entry>.HashOf(key));
            setAssociative.Set(entry);
            dictionary[key] = entry;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 1_024)]
    public int ConcurrentDictionaryHit()
    {
        var found = 0;
        foreach (var key in keys)
        {
            found += dictionary.TryGetValue(key, out _) ? 1 : 0;
        }

        return found;
    }

    [Benchmark(OperationsPerInvoke = 1_024)]
    public int SetAssociativeHit()
    {
        var found = 0;
        foreach (var key in keys)
        {
            found += setAssociative.TryGet(key, BoundedCache<Entry>.HashOf(key), out _) ? 1 : 0;
        }

        return found;
    }
}
