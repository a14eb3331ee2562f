using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Confluent.Kafka;
using Insights.Contracts;
using Insights.Ingest;
using Insights.Ingest.Kafka;
using Insights.Ingest.Parsing;

namespace Insights.Benchmarks;

/// <summary>
/// Ingest's per-request CPU: one 100-event batch (the load test's request) parsed, validated and mapped to
/// envelopes, against the floor of merely parsing the JSON. Events/s per core = 100 / mean.
/// </summary>
[MemoryDiagnoser]
public class IngestParsingBenchmarks
{
    private readonly EventBatchParser parser = new(new IngestOptions());
    private readonly IngestRequestContext request = new("demo", KeyKind.Write, DateTimeOffset.Parse("2026-11-26T10:00:01Z"), "203.0.113.7", "bench");
    private byte[] body = [];

    [GlobalSetup]
    public void Setup() => body = SampleEvents.Batch(100);

    [Benchmark(Baseline = true, Description = "JsonDocument.Parse only (floor)")]
    public int ParseJsonOnly()
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetArrayLength();
    }

    [Benchmark(Description = "EventBatchParser.Parse: validate + map 100 events")]
    public int ParseValidateMap()
    {
        using var batch = parser.Parse(body, BodyFormat.Json, request);
        return batch.Events.Count;
    }
}

/// <summary>Kafka message encoding of 100 envelopes: the wire codec against reflection-based System.Text.Json.</summary>
[MemoryDiagnoser]
public class KafkaEncodingBenchmarks
{
    private static readonly JsonSerializerOptions Reflection = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private List<PipelineEvent> events = [];

    [GlobalSetup]
    public void Setup() => events = SampleEvents.Envelopes(100);

    [Benchmark(Baseline = true, Description = "JsonSerializer (reflection) x100")]
    public int Reflective()
    {
        var bytes = 0;
        foreach (var e in events)
        {
            bytes += JsonSerializer.SerializeToUtf8Bytes(e, Reflection).Length;
        }

        return bytes;
    }

    [Benchmark(Description = "EventMessageEncoder.EncodeAll x100 (key, value)")]
    public int Encoder() => EventMessageEncoder.EncodeAll(events).Length;
}

/// <summary>
/// What Confluent.Kafka's <c>Produce</c> costs ingest per message before anything reaches a broker: 100 encoded
/// events handed to librdkafka's queue as ingest sends them (no headers), against the same messages with the
/// <c>schema</c> and <c>event_type</c> headers ingest wrote until 2026-12-07. The producer points at a port nothing
/// listens on, so the messages only queue, and librdkafka drops them after 1 ms (its timeout scan runs once a second).
/// </summary>
[MemoryDiagnoser]
public class KafkaProduceBenchmarks
{
    private static readonly Header[] OldHeaders =
    [
        new(EventCodec.SchemaHeader, EventCodec.SchemaValue),
        new("event_type", Encoding.UTF8.GetBytes(EventTypes.Pageview)),
    ];

    private IProducer<byte[], byte[]>? producer;
    private Message<byte[], byte[]>[] plain = [];
    private Message<byte[], byte[]>[] withHeaders = [];

    [GlobalSetup]
    public void Setup()
    {
        plain = EventMessageEncoder.EncodeAll(SampleEvents.Envelopes(100));
        withHeaders = [.. plain.Select(m => new Message<byte[], byte[]> { Key = m.Key, Value = m.Value, Headers = [.. OldHeaders] })];
        producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = "127.0.0.1:9",
            EnableDeliveryReports = false,
            QueueBufferingMaxMessages = 10_000_000,
            QueueBufferingMaxKbytes = 4 * 1024 * 1024,
            MessageTimeoutMs = 1,
            LingerMs = 0,
        }).Build();
    }

    [GlobalCleanup]
    public void Cleanup() => producer?.Dispose();

    [Benchmark(Baseline = true, Description = "Produce x100 with schema + event_type headers (until 2026-12-07)")]
    public int WithHeaders() => Produce(withHeaders);

    [Benchmark(Description = "Produce x100, no headers (EventCodec.ToMessage)")]
    public int NoHeaders() => Produce(plain);

    private int Produce(Message<byte[], byte[]>[] messages)
    {
        foreach (var message in messages)
        {
            producer!.Produce("insights.events", message);
        }

        return messages.Length;
    }
}
