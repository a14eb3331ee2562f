using System.Net;
using System.Runtime.InteropServices;

namespace Insights.DevStack.Kafka;

/// <summary>
/// A Kafka-protocol broker for the dev stack: librdkafka's mock cluster, listening on loopback TCP,
/// reachable by clients in any process.
/// </summary>
/// <remarks>
/// Unlike real Kafka it keeps everything in memory, auto-creates unknown topics with 4 partitions,
/// and must never be sent CreateTopics or DescribeCluster (they time out) or ListConsumerGroups (it
/// crashes this process); create topics through <see cref="CreateTopic"/> instead.
/// </remarks>
public sealed class MockKafkaCluster : IDisposable
{
    private const int NoError = 0;
    private const int TopicAlreadyExists = 36; // RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS

    private readonly Librdkafka _librdkafka;
    private readonly GCHandle _logHandle;
    private readonly nint _owner;
    private readonly nint _cluster;
    private readonly int _replicationFactor;
    private readonly ILogger _logger;
    // Held around every call into the cluster and around its destruction, so a late call (say, a
    // fault-injection request during shutdown) fails with ObjectDisposedException instead of touching freed memory.
    private readonly Lock _gate = new();
    private BootstrapForwarder? _forwarder;
    private bool _disposed;

    private MockKafkaCluster(Librdkafka librdkafka, GCHandle logHandle, nint owner, nint cluster, int brokers, ILogger logger)
    {
        _librdkafka = librdkafka;
        _logHandle = logHandle;
        _owner = owner;
        _cluster = cluster;
        _replicationFactor = Math.Min(brokers, 3);
        _logger = logger;
        BrokerAddresses = librdkafka.MockClusterBootstraps(cluster);
        BootstrapServers = BrokerAddresses;
    }

    /// <summary>Where clients bootstrap: the fixed port when one is configured, else the brokers themselves.</summary>
    public string BootstrapServers { get; private set; }

    /// <summary>The mock brokers' own listeners (ephemeral ports), as metadata advertises them.</summary>
    internal string BrokerAddresses { get; }

    public static MockKafkaCluster Start(KafkaStackOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = options.Validate();
        if (errors.Count > 0) throw new InvalidOperationException(string.Join(Environment.NewLine, errors));

        var librdkafka = Librdkafka.Instance;
        var logHandle = GCHandle.Alloc(logger);
        nint owner = 0;
        nint cluster = 0;
        MockKafkaCluster? started = null;
        try
        {
            owner = librdkafka.NewOwner(logHandle, new Dictionary<string, string>
            {
                ["client.id"] = "insights-devstack-mock-kafka",
                // The owner never connects anywhere; without this its only log line is a notice that it
                // has no bootstrap.servers. The mock brokers' warnings and errors still come through.
                ["log_level"] = "4",
            });
            cluster = librdkafka.MockClusterNew(owner, options.Brokers);
            if (cluster == 0)
                throw new InvalidOperationException($"librdkafka could not start a mock cluster of {options.Brokers} broker(s); see its log lines above.");
            started = new MockKafkaCluster(librdkafka, logHandle, owner, cluster, options.Brokers, logger);

            librdkafka.MockGroupInitialRebalanceDelayMs(cluster, options.InitialRebalanceDelayMs);
            foreach (var (topic, partitions) in options.Topics)
                started.CreateTopic(topic, partitions);
            if (options.Port != 0)
            {
                started._forwarder = BootstrapForwarder.Start(options.Port, ParseEndPoints(started.BrokerAddresses), logger);
                started.BootstrapServers = started._forwarder.LocalEndPoint.ToString();
            }
        }
        catch
        {
            if (started is not null)
            {
                started.Dispose();
            }
            else
            {
                if (cluster != 0) librdkafka.MockClusterDestroy(cluster);
                if (owner != 0) librdkafka.Destroy(owner);
                logHandle.Free();
            }
            throw;
        }

        logger.LogWarning(
            "Kafka-protocol broker (librdkafka {Version} mock cluster, {Brokers} broker(s)) on {BootstrapServers}: "
            + "it keeps all data in memory only, and everything is lost when this process exits.",
            librdkafka.Version, options.Brokers, started.BootstrapServers);
        return started;
    }

    /// <summary>Disconnects the broker and refuses new connections, as a crashed broker would (no leader change).</summary>
    public void SetBrokerDown(int brokerId)
    {
        lock (_gate)
            Check(_librdkafka.MockBrokerSetDown(Cluster, brokerId), $"set broker {brokerId} down");
        _logger.LogWarning("Kafka broker {BrokerId} is down until SetBrokerUp.", brokerId);
    }

    public void SetBrokerUp(int brokerId)
    {
        lock (_gate)
            Check(_librdkafka.MockBrokerSetUp(Cluster, brokerId), $"set broker {brokerId} up");
        _logger.LogInformation("Kafka broker {BrokerId} is up.", brokerId);
    }

    /// <summary>
    /// Creates <paramref name="name"/> with <paramref name="partitions"/> partitions. A topic that
    /// already exists, with whatever partition count it has, is left as it is.
    /// </summary>
    public void CreateTopic(string name, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        int error;
        lock (_gate)
            error = _librdkafka.MockTopicCreate(Cluster, name, partitions, _replicationFactor);
        if (error == TopicAlreadyExists)
        {
            _logger.LogDebug("Kafka topic {Topic} already exists; its partition count is unchanged.", name);
            return;
        }
        Check(error, $"create topic {name} with {partitions} partitions");
        _logger.LogDebug("Kafka topic {Topic} created with {Partitions} partition(s).", name, partitions);
    }

    /// <summary>
    /// Deletes the records of <paramref name="topic"/>'s <paramref name="partition"/> before
    /// <paramref name="beforeOffset"/> (whole produced batches; the one holding that offset stays), as Kafka's
    /// DeleteRecords does. The offset must be above the partition's current start (see <see cref="ConsumedLogTrimmer"/>).
    /// </summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset)
    {
        int error;
        lock (_gate)
            error = _librdkafka.MockPartitionDeleteRecords(Cluster, topic, partition, beforeOffset);
        Check(error, $"delete the records of {topic} [{partition}] before offset {beforeOffset}");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }

        // Stop relaying first so nothing new reaches the brokers, then the brokers, then their owner;
        // the log handle stays alive until the last librdkafka thread has been joined.
        _forwarder?.Dispose();
        _librdkafka.MockClusterDestroy(_cluster);
        _librdkafka.Destroy(_owner);
        _logHandle.Free();
    }

    // Only under _gate.
    private nint Cluster
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _cluster;
        }
    }

    private void Check(int error, string action)
    {
        if (error != NoError)
            throw new InvalidOperationException($"The mock Kafka cluster could not {action}: {_librdkafka.ErrorText(error)}.");
    }

    private static IPEndPoint[] ParseEndPoints(string bootstraps) =>
        [.. bootstraps.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPEndPoint.Parse)];
}
