using System.ComponentModel.DataAnnotations;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.Ingest.Kafka;

/// <summary>The events producer (section <c>Kafka</c>).</summary>
public sealed class KafkaProducerOptions
{
    public const string Section = "Kafka";

    /// <summary>Brokers to bootstrap from (<c>host:port,host:port</c>); the dev stack listens on 127.0.0.1:9092.</summary>
    [Required]
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary>Topic the events go to, keyed by <c>site:visitor</c>.</summary>
    [Required]
    [RegularExpression("^[a-zA-Z0-9._-]{1,249}$", ErrorMessage = "{0} must be a Kafka topic name (letters, digits, '.', '_', '-')")]
    public string EventsTopic { get; set; } = Topics.Events;

    /// <summary>
    /// How long a request waits for Kafka's acknowledgement before it answers 503 (librdkafka's message.timeout.ms):
    /// shorter fails fast in an outage, longer rides out a leader election without sending clients into retries.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:05:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>linger.ms: longer fills bigger, better-compressed Kafka batches, and adds that much to every request's latency.</summary>
    [Range(0, 1000)]
    public int LingerMs { get; set; } = 5;

    /// <summary>compression.type: lz4 costs little CPU for JSON's usual 3-5x; zstd compresses better and costs more.</summary>
    public CompressionType Compression { get; set; } = CompressionType.Lz4;

    /// <summary>
    /// queue.buffering.max.kbytes, memory for messages awaiting acknowledgement: more absorbs a longer broker stall before
    /// requests get 503, and costs that much RSS at worst.
    /// </summary>
    [Range(1024, 2_097_151)]
    public int QueueMaxKilobytes { get; set; } = 64 * 1024;
}
