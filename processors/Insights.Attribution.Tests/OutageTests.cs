using Insights.Attribution.Tests.Support;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests;

/// <summary>ClickHouse going away mid-stream: the processors, and attribution in their batches, wait (not ready, partitions
/// paused), then catch up with nothing lost.</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task A_clickhouse_outage_delays_attribution_without_losing_or_doubling_revenue()
    {
        // A private stack: taking its ClickHouse down must not disturb the other tests of the assembly.
        var work = Directory.CreateTempSubdirectory("attribution-outage-").FullName;
        await using var process = DevStackProcess.Start(Path.Combine(work, "ch"), Path.Combine(work, "env"));
        var addresses = await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var stack = new DevStackPipeline.Stack(addresses["INSIGHTS_CLICKHOUSE_URL"], addresses["INSIGHTS_KAFKA_BOOTSTRAP"]);
        var pipeline = await DevStackPipeline.CreateAsync(stack);

        await using var processors = await pipeline.StartProcessorsAsync();
        var health = processors.Services.GetRequiredService<Insights.Processors.PipelineHealth>();
        await Eventually.TrueAsync(() => Task.FromResult(health.NotReadyBecause is null), "processors ready");

        await stack.SetClickHouseAvailableAsync(false);
        await pipeline.ProduceAsync([ChatStarted("c1", "v1", T.Hours(-1)), Order("o1", "v1", T, 42.5m)]);
        await Eventually.TrueAsync(() => Task.FromResult(health.NotReadyBecause?.Contains("retrying", StringComparison.Ordinal) == true),
            "the processors report the failing batch");

        await stack.SetClickHouseAvailableAsync(true);
        await Eventually.TrueAsync(async () => await pipeline.ScalarAsync<ulong>(
            "SELECT count() FROM attribution_credits FINAL WHERE order_id = 'o1' AND model = 'last_chat' AND share = 1") == 1, "credited after the outage");
        await Eventually.TrueAsync(() => Task.FromResult(health.NotReadyBecause is null), "ready again");
        Assert.Equal(42.5m, await pipeline.ScalarAsync<decimal>("SELECT sum(amount) FROM attribution_credits FINAL WHERE model = 'last_chat'"));
    }
}
