using BenchmarkDotNet.Attributes;
using Insights.Contracts;

namespace Insights.Enrichment.Benchmarks;

/// <summary>
/// Whole enrichment of a 4,096-event batch with warm caches: figures are per event (OperationsPerInvoke).
/// Baseline: the same pipeline with no data files (user-agent cache, device, privacy only).
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private PipelineEvent[] batch = [];
    private EnrichedEvent[] results = [];
    private EnrichmentPipeline withoutData = null!;
    private EnrichmentPipeline withData = null!;

    [GlobalSetup]
    public void Setup()
    {
        batch = BenchmarkData.Batch();
        results = new EnrichedEvent[batch.Length];
        withoutData = BenchmarkData.Pipeline(o => o.DataDirectory = Path.Combine(Path.GetTempPath(), "insights-no-ipdata"));
        withData = BenchmarkData.Pipeline();
        withoutData.Enrich(batch, results);
        withData.Enrich(batch, results);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        withoutData.Dispose();
        withData.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BenchmarkData.BatchSize)]
    public void NoData() => withoutData.Enrich(batch, results);

    [Benchmark(OperationsPerInvoke = BenchmarkData.BatchSize)]
    public void AllEnrichments() => withData.Enrich(batch, results);

    [IterationSetup(Target = nameof(AllEnrichmentsColdCaches))]
    public void EmptyCaches() => withData.ClearCaches();

    /// <summary>The same batch on empty caches: its 1,000 distinct IPs and 14 agents are all misses once.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkData.BatchSize)]
    public void AllEnrichmentsColdCaches() => withData.Enrich(batch, results);
}
