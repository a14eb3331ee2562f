using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using Insights.Contracts;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>
/// Records invitation events (<c>invitation_sent</c>, <c>invitation_dismissed</c>) as server-side track events on the
/// events topic. Their ids are deterministic where several instances decide the same thing (a rule firing for a visit),
/// so storage keeps one and presence applies one. Watchers hand events over without waiting (<see cref="Enqueue"/>);
/// an agent's request waits for Kafka's acknowledgement (<see cref="SendAsync"/>).
/// </summary>
public sealed class InvitationRecorder : IDisposable
{
    private readonly Channel<PipelineEvent> queue;
    private readonly InvitationOptions options;
    private readonly Lazy<IProducer<byte[], byte[]>> producer;
    private readonly ILogger<InvitationRecorder> logger;

    public InvitationRecorder(IOptions<InvitationOptions> options, IConfiguration configuration, ILogger<InvitationRecorder> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        this.options = options.Value;
        this.logger = logger;
        queue = Channel.CreateBounded<PipelineEvent>(new BoundedChannelOptions(this.options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
        });
        var bootstrap = this.options.BootstrapServers is { Length: > 0 } own ? own : configuration["Kafka:BootstrapServers"] ?? "127.0.0.1:9092";
        producer = new(() => new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = (int)this.options.DeliveryTimeout.TotalMilliseconds,
        }).Build());
    }

    /// <summary>The queued events, for the worker that produces them.</summary>
    internal ChannelReader<PipelineEvent> Queue => queue.Reader;

    /// <summary>Queues an event without waiting (called under a site's lock); false when the queue is full.</summary>
    public bool Enqueue(PipelineEvent e)
    {
        if (queue.Writer.TryWrite(e))
        {
            return true;
        }

        logger.InvitationQueueFull();
        return false;
    }

    /// <summary>Produces the event and waits for Kafka; false (logged) when it could not be recorded.</summary>
    public async Task<bool> SendAsync(PipelineEvent e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        try
        {
            await producer.Value.ProduceAsync(options.EventsTopic, EventCodec.ToMessage(e), cancellationToken).WaitAsync(options.DeliveryTimeout, cancellationToken);
            return true;
        }
        catch (Exception error) when (error is KafkaException or TimeoutException)
        {
            logger.InvitationRecordFailed(error.Message);
            return false;
        }
    }

    /// <summary>An invitation event as the pipeline carries it: a server-side track event of the visitor.</summary>
    public static PipelineEvent Event(string eventId, string name, string site, string visitor, string invitationId, string? rule, string? message, DateTimeOffset at) => new()
    {
        EventId = eventId,
        Type = EventTypes.Track,
        Name = name,
        SiteId = site,
        AnonymousId = visitor,
        Timestamp = at,
        ReceivedAt = at,
        Source = "query-api",
        Properties = JsonSerializer.SerializeToElement(new Dictionary<string, string?>
        {
            ["invitation_id"] = invitationId,
            ["rule_id"] = rule,
            ["message"] = message,
        }.Where(p => p.Value is not null).ToDictionary()),
    };

    /// <summary>
    /// The id of what a rule decided for a visit: the same on every instance (site, visitor, visit and rule), so the
    /// copies recorded by several instances are one invitation.
    /// </summary>
    public static string DeterministicId(string prefix, string site, string visitor, string? session, string rule)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{site}\n{visitor}\n{session}\n{rule}"));
        return prefix + Convert.ToHexStringLower(hash.AsSpan(0, 12));
    }

    public void Dispose()
    {
        if (producer.IsValueCreated)
        {
            producer.Value.Flush(TimeSpan.FromSeconds(2));
            producer.Value.Dispose();
        }
    }
}
