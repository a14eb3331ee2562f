using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Kafka;

/// <summary>
/// The one producer of the process (librdkafka batches across requests; a producer per request would not) and the
/// promise built on it: <see cref="DeliverAsync"/> completes successfully only when Kafka acknowledged every message
/// (acks=all, idempotent), and otherwise with the reason, within the delivery timeout.
/// </summary>
public sealed class KafkaEventSink : IHostedService, IDisposable
{
    private static readonly TimeSpan ErrorLogInterval = TimeSpan.FromSeconds(30);

    private readonly IOptions<KafkaProducerOptions> options;
    private readonly TimeSpan statisticsInterval;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger logger;
    private readonly Lock startLock = new();
    private readonly Dictionary<ErrorCode, (long LastLogged, int Suppressed)> errorLog = [];
    private Connection? connection;
    private int inFlight;
    private long lastSuccess = -1;
    private long lastFailure = -1;
    private string? lastError;
    private int failing;
    private int disposed;

    private (long Bytes, long Messages) lastTotals;
    private double wireBytesPerMessage = double.NaN;

    public KafkaEventSink(IOptions<KafkaProducerOptions> options, IOptions<BacklogOptions> backlog, IngestMetrics metrics, IHostApplicationLifetime lifetime,
        ILogger<KafkaEventSink> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(backlog);
        this.options = options;
        // The back-pressure gate measures its backlog in the bytes the broker stores; only then are statistics worth their cost.
        statisticsInterval = backlog.Value.Enabled ? backlog.Value.CheckInterval : TimeSpan.Zero;
        this.lifetime = lifetime;
        this.logger = logger;
        metrics.ObserveQueueDepth(() => InFlight);
    }

    /// <summary>The producer, created at host start (after the options were validated) or at first use.</summary>
    private Connection Current => Volatile.Read(ref connection) ?? Connect();

    private Connection Connect()
    {
        lock (startLock)
        {
            if (connection is { } existing)
            {
                return existing;
            }

            ObjectDisposedException.ThrowIf(disposed == 1, this);
            var settings = options.Value;
            var config = new ProducerConfig
            {
                BootstrapServers = settings.BootstrapServers,
                ClientId = "insights-ingest",
                Acks = Acks.All,
                EnableIdempotence = true,
                LingerMs = settings.LingerMs,
                CompressionType = settings.Compression,
                MessageTimeoutMs = (int)settings.DeliveryTimeout.TotalMilliseconds,
                QueueBufferingMaxKbytes = settings.QueueMaxKilobytes,
                // Come back within a second of a broker's return, not librdkafka's default 10 s back-off.
                ReconnectBackoffMs = 50,
                ReconnectBackoffMaxMs = 1000,
                // The handler needs only the outcome; copying keys and values back per message would be wasted work.
                DeliveryReportFields = "status",
                StatisticsIntervalMs = (int)statisticsInterval.TotalMilliseconds,
            };

            var producer = new ProducerBuilder<byte[], byte[]>(config)
                .SetStatisticsHandler((_, json) => OnStatistics(json))
                .SetErrorHandler(OnError)
                .SetLogHandler((_, message) => logger.KafkaLog(LevelOf(message.Level), message.Facility, message.Message))
                .Build();
            // librdkafka reports every message by message.timeout.ms; the margin only guards against a report that never comes.
            var created = new Connection(producer, settings.EventsTopic, settings.DeliveryTimeout, settings.DeliveryTimeout + TimeSpan.FromSeconds(2),
                new Lazy<IAdminClient>(() => new DependentAdminClientBuilder(producer.Handle).Build()));
            Volatile.Write(ref connection, created);
            logger.ProducerStarted(created.Topic, settings.BootstrapServers, created.DeliveryTimeout);
            return created;
        }
    }

    /// <summary>Messages produced and not yet acknowledged (or failed).</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>When Kafka last acknowledged a message, as a <see cref="Stopwatch"/> timestamp; -1 if never.</summary>
    public long LastSuccess => Volatile.Read(ref lastSuccess);

    /// <summary>When a delivery last failed, as a <see cref="Stopwatch"/> timestamp; -1 if never.</summary>
    public long LastFailure => Volatile.Read(ref lastFailure);

    public string? LastError => Volatile.Read(ref lastError);

    /// <summary>
    /// Bytes sent to the brokers per message produced, over the last statistics interval in which messages were sent:
    /// what a message costs the broker's log after compression (request framing included, so slightly more). Null until
    /// the first such interval, and always when <see cref="BacklogOptions"/> is off (no statistics are collected).
    /// </summary>
    public double? WireBytesPerMessage => Volatile.Read(ref wireBytesPerMessage) is var value && double.IsNaN(value) ? null : value;

    /// <summary>Produces every message and waits until Kafka acknowledged all of them, or one failed, or the time is up.</summary>
    public async Task<DeliveryOutcome> DeliverAsync(Message<byte[], byte[]>[] messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var (producer, topic, _, waitLimit, _) = Current;
        var pending = new PendingDelivery(this, messages.Length);
        for (var i = 0; i < messages.Length; i++)
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                producer.Produce(topic, messages[i], pending.Handler);
            }
            catch (KafkaException error)
            {
                // Known at once (local queue full, fatal producer): the rest is not produced; what was may still land,
                // which a retry with the same messageIds makes harmless.
                Interlocked.Decrement(ref inFlight);
                pending.Fail(error.Error);
                break;
            }
        }

        try
        {
            var error = await pending.Task.WaitAsync(waitLimit, cancellationToken);
            return error is null ? DeliveryOutcome.Delivered : DeliveryOutcome.Failed($"{error.Code}: {error.Reason}");
        }
        catch (TimeoutException)
        {
            RecordFailure("no delivery report within the delivery timeout");
            return DeliveryOutcome.Failed($"Kafka did not acknowledge within {waitLimit.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Asks the cluster for its metadata over the producer's own connections (the readiness probe).</summary>
    public Metadata GetMetadata(TimeSpan timeout) => Current.Admin.Value.GetMetadata(timeout);

    /// <summary>Connects before the server takes requests, so the first request does not wait for the producer id.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Current;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs after the web server stopped taking requests and drained the running ones, so nothing new is produced;
    /// waits for what is still in the air, as a request would have.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        var pending = InFlight;
        if (pending > 0 && Volatile.Read(ref connection) is { } current)
        {
            logger.Flushing(pending);
            var left = current.Producer.Flush(current.DeliveryTimeout);
            if (left > 0)
            {
                logger.FlushIncomplete(left);
            }
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // The container disposes this twice: as itself and as the hosted service it is also registered as.
        lock (startLock)
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1 || connection is not { } current)
            {
                return;
            }

            if (current.Admin.IsValueCreated)
            {
                current.Admin.Value.Dispose();
            }

            current.Producer.Dispose();
        }
    }

    private void OnDelivered(Error error)
    {
        Interlocked.Decrement(ref inFlight);
        if (!error.IsError)
        {
            Volatile.Write(ref lastSuccess, Stopwatch.GetTimestamp());
            if (Volatile.Read(ref failing) == 1 && Interlocked.Exchange(ref failing, 0) == 1)
            {
                logger.DeliveriesRecovered();
            }

            return;
        }

        RecordFailure($"{error.Code}: {error.Reason}");
    }

    private void RecordFailure(string error)
    {
        Volatile.Write(ref lastError, error);
        Volatile.Write(ref lastFailure, Stopwatch.GetTimestamp());
        // Log the transition, not every failure: in an outage every message fails.
        if (Interlocked.Exchange(ref failing, 1) == 0)
        {
            logger.DeliveriesFailing(error);
        }
    }

    private void OnError(IProducer<byte[], byte[]> source, Error error)
    {
        if (error.IsFatal)
        {
            // An idempotent producer that failed fatally refuses every message from now on; only a new one helps,
            // and a restart gives it a fresh state without guesswork.
            logger.KafkaFatal(error.Code.ToString(), error.Reason);
            RecordFailure($"{error.Code}: {error.Reason}");
            lifetime.StopApplication();
            return;
        }

        // While a broker is away librdkafka reports every reconnect attempt; one line per error kind per interval says
        // the same to an operator without drowning the log.
        var now = Stopwatch.GetTimestamp();
        lock (errorLog)
        {
            var (lastLogged, suppressed) = errorLog.GetValueOrDefault(error.Code, (-1L, 0));
            if (lastLogged >= 0 && Stopwatch.GetElapsedTime(lastLogged, now) < ErrorLogInterval)
            {
                errorLog[error.Code] = (lastLogged, suppressed + 1);
                return;
            }

            errorLog[error.Code] = (now, 0);
            logger.KafkaError(error.Code.ToString(), error.Reason, suppressed);
        }
    }

    // librdkafka's statistics (on its own thread, every statistics interval): the totals of bytes sent to all brokers and of
    // messages sent, at the top level of the document; the window's ratio is the wire size of a message.
    private void OnStatistics(string json)
    {
        var totals = StatisticsTotals(json);
        if (totals is not { } current)
        {
            return;
        }

        var (bytes, messages) = (current.Bytes - lastTotals.Bytes, current.Messages - lastTotals.Messages);
        lastTotals = current;
        if (messages > 0 && bytes > 0)
        {
            Volatile.Write(ref wireBytesPerMessage, (double)bytes / messages);
        }
    }

    /// <summary>The top-level <c>tx_bytes</c> and <c>txmsgs</c> of a librdkafka statistics document, or null if either is missing.</summary>
    internal static (long Bytes, long Messages)? StatisticsTotals(string json)
    {
        long? bytes = null, messages = null;
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        while (reader.Read())
        {
            if (reader.TokenType != System.Text.Json.JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            var isBytes = reader.ValueTextEquals("tx_bytes"u8);
            var isMessages = !isBytes && reader.ValueTextEquals("txmsgs"u8);
            reader.Read();
            if (isBytes && reader.TokenType == System.Text.Json.JsonTokenType.Number)
            {
                bytes = reader.GetInt64();
            }
            else if (isMessages && reader.TokenType == System.Text.Json.JsonTokenType.Number)
            {
                messages = reader.GetInt64();
            }
            else if (reader.TokenType is System.Text.Json.JsonTokenType.StartObject or System.Text.Json.JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            if (bytes is not null && messages is not null)
            {
                return (bytes.Value, messages.Value);
            }
        }

        return null;
    }

    // librdkafka's error-level lines repeat what the error handler reports (throttled); its warnings (configuration,
    // protocol) are worth an operator's eye, the rest is for debugging.
    private static LogLevel LevelOf(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Debug,
    };

    /// <summary>One request's messages: completes with null when all were acknowledged, or with the first error.</summary>
    private sealed class PendingDelivery
    {
        private readonly KafkaEventSink sink;
        private readonly TaskCompletionSource<Error?> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int remaining;

        public PendingDelivery(KafkaEventSink sink, int count)
        {
            this.sink = sink;
            remaining = count;
            Handler = OnReport;
        }

        /// <summary>One delegate per request, not per message.</summary>
        public Action<DeliveryReport<byte[], byte[]>> Handler { get; }

        public Task<Error?> Task => completion.Task;

        public void Fail(Error error)
        {
            sink.RecordFailure($"{error.Code}: {error.Reason}");
            completion.TrySetResult(error);
        }

        // Runs on librdkafka's delivery-report thread: keep it to a few interlocked operations.
        private void OnReport(DeliveryReport<byte[], byte[]> report)
        {
            sink.OnDelivered(report.Error);
            if (report.Error.IsError)
            {
                // The first failure decides the answer (503); waiting for the others would only delay it.
                completion.TrySetResult(report.Error);
            }
            else if (Interlocked.Decrement(ref remaining) == 0)
            {
                completion.TrySetResult(null);
            }
        }
    }
}

/// <summary>The producer and what it was created with; replaced only by a new process.</summary>
internal sealed record Connection(
    IProducer<byte[], byte[]> Producer, string Topic, TimeSpan DeliveryTimeout, TimeSpan WaitLimit, Lazy<IAdminClient> Admin);

/// <summary>Whether Kafka acknowledged every message of a request, and if not, why.</summary>
public readonly record struct DeliveryOutcome(bool IsDelivered, string? Error)
{
    public static readonly DeliveryOutcome Delivered = new(true, null);

    public static DeliveryOutcome Failed(string error) => new(false, error);
}
