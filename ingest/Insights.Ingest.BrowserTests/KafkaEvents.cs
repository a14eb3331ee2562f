using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Ingest.BrowserTests;

/// <summary>
/// Everything ingest produced to the test topic, read as a processor would (a consumer group from the beginning), so a
/// test sees what the pipeline would count, not what the browser claims to have sent.
/// </summary>
public sealed class KafkaEvents : IAsyncDisposable
{
    // Long enough for the tracker's own retries (2, 4, 8 s ...) when ingest answered 503 under a loaded CI machine.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly List<PipelineEvent> events = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly Task reading;

    public KafkaEvents(string bootstrap, string topic)
    {
        var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"browser-tests.{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            AllowAutoCreateTopics = false,
            // The only member of its group: a long session costs nothing, and a starved test process (CI runs every
            // assembly at once on two cores) is not expelled from the group mid-test.
            SessionTimeoutMs = 30_000,
            HeartbeatIntervalMs = 1000,
            TopicMetadataRefreshIntervalMs = 1000,
        }).Build();
        consumer.Subscribe(topic);
        reading = Task.Factory.StartNew(() => Read(consumer), TaskCreationOptions.LongRunning);
    }

    /// <summary>Waits until <paramref name="count"/> events match, and returns them in the order Kafka gave them.</summary>
    public async Task<List<PipelineEvent>> WaitForAsync(Func<PipelineEvent, bool> match, int count = 1, string? what = null)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var found = Matching(match);
            if (found.Count >= count)
            {
                return found;
            }

            Assert.True(reading.Status == TaskStatus.Running, $"The Kafka reader stopped: {reading.Exception}");
            Assert.True(DateTime.UtcNow < deadline,
                $"Saw {found.Count} of {count} {what ?? "events"} on Kafka within {Deadline.TotalSeconds} s. What browsers sent to ingest lately:\n{IngestTraffic.Recent()}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The matching events seen so far.</summary>
    public List<PipelineEvent> Matching(Func<PipelineEvent, bool> match)
    {
        lock (events)
        {
            return events.Where(match).ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await reading;
        stopping.Dispose();
    }

    private void Read(IConsumer<byte[], byte[]> consumer)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result?.Message is null)
                {
                    continue;
                }

                var decoded = EventCodec.Decode(result.Message.Value);
                if (decoded.Event is null)
                {
                    throw new InvalidOperationException($"Undecodable message on the topic: {decoded.Reason} {decoded.Detail}");
                }

                lock (events)
                {
                    events.Add(decoded.Event);
                }
            }
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }
    }
}
