using Confluent.Kafka;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// Back-pressure against the dev stack's broker: the gate reads a consumer group's committed offsets and the topic's
/// watermarks over the Kafka protocol, refuses events once the group is behind, and takes them again once it has read.
/// (Through scripts/run.sh with the processors stopped: e2e BackpressureRunTests.)
/// </summary>
public sealed class BacklogTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Events_are_refused_with_503_while_the_group_is_behind_and_taken_again_once_it_has_read_them()
    {
        var group = $"backlog-{Guid.NewGuid():N}";
        await using var host = IngestHost.Start(stack.KafkaBootstrap, new Dictionary<string, string?>
        {
            ["Ingest:Backlog:MaxBytesPerPartition"] = "4096",
            ["Ingest:Backlog:ConsumerGroups"] = group,
            ["Ingest:Backlog:CheckInterval"] = "00:00:00.100",
        });
        var accepted = 0;
        HttpResponseMessage? refused = null;
        for (var batch = 0; refused is null; batch++)
        {
            Assert.True(batch < 400, $"still accepted after {accepted} events with a group that reads nothing");
            var body = "[" + string.Join(',', Enumerable.Range(0, 20).Select(i =>
                $$"""{"type":"track","event":"viewed","anonymousId":"v{{i}}","messageId":"b{{batch}}-{{i}}"}""")) + "]";
            var response = await host.PostAsync(body);
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                accepted += (await Answer.AcceptedAsync(response, 20)).GetProperty("accepted").GetInt32();
                await Task.Delay(20, Ct);
            }
            else
            {
                refused = response;
            }
        }

        var problem = await Answer.ProblemAsync(refused, 503, RejectReasons.Backlog);
        Assert.Contains("behind on partition", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.InRange(int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture), 1, 60);

        // The group reads everything: it commits each partition's end, as a caught-up consumer would.
        CommitEnd(stack.KafkaBootstrap, group, host.Topic);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var response = await host.PostAsync("""[{"type":"track","event":"viewed","anonymousId":"late","messageId":"after"}]""");
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                accepted++;
                break;
            }

            await Answer.ProblemAsync(response, 503, RejectReasons.Backlog);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "still refused 30 s after the group committed every partition's end");
            await Task.Delay(100, Ct);
        }

        // Nothing refused reached Kafka: exactly what was acknowledged is there.
        Assert.Equal(accepted, KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, accepted).Count);
    }

    private static void CommitEnd(string bootstrap, string group, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId));
        consumer.Commit(partitions.Select(p => new TopicPartitionOffset(p, consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High)));
    }
}
