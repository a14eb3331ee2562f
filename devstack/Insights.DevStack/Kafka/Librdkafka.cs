using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Insights.DevStack.Kafka;

/// <summary>
/// The experimental <c>rd_kafka_mock_*</c> API (rdkafka_mock.h, not covered by librdkafka's ABI
/// guarantees) and the few <c>rd_kafka_*</c> calls needed to own a mock cluster, bound by function
/// pointer to the librdkafka file Confluent.Kafka itself loads.
/// </summary>
/// <remarks>
/// Function pointers from <see cref="NativeLibrary.GetExport"/> rather than [DllImport] so that no
/// DllImportResolver has to be claimed for this assembly (only one is allowed per assembly).
/// </remarks>
internal sealed unsafe class Librdkafka
{
    private const int ErrorBufferSize = 512;
    private const int ProducerType = 0; // RD_KAFKA_PRODUCER
    private const int ConfOk = 0; // RD_KAFKA_CONF_OK

    private static readonly Lazy<Librdkafka> Shared = new(() => new Librdkafka(LoadLibrary()));

    public static Librdkafka Instance => Shared.Value;

    // const char *rd_kafka_version_str(void)
    private readonly delegate* unmanaged[Cdecl]<byte*> _versionStr;
    // const char *rd_kafka_err2str(rd_kafka_resp_err_t err)
    private readonly delegate* unmanaged[Cdecl]<int, byte*> _err2str;
    // rd_kafka_conf_t *rd_kafka_conf_new(void)
    private readonly delegate* unmanaged[Cdecl]<nint> _confNew;
    // rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t errstr_size)
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, byte*, byte*, nuint, int> _confSet;
    // void rd_kafka_conf_set_log_cb(rd_kafka_conf_t *conf, void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac, const char *buf))
    private readonly delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, int, byte*, byte*, void>, void> _confSetLogCb;
    // void rd_kafka_conf_set_opaque(rd_kafka_conf_t *conf, void *opaque)
    private readonly delegate* unmanaged[Cdecl]<nint, nint, void> _confSetOpaque;
    // void rd_kafka_conf_destroy(rd_kafka_conf_t *conf)
    private readonly delegate* unmanaged[Cdecl]<nint, void> _confDestroy;
    // rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size)
    private readonly delegate* unmanaged[Cdecl]<int, nint, byte*, nuint, nint> _new;
    // void *rd_kafka_opaque(const rd_kafka_t *rk)
    private readonly delegate* unmanaged[Cdecl]<nint, nint> _opaque;
    // void rd_kafka_destroy(rd_kafka_t *rk)
    private readonly delegate* unmanaged[Cdecl]<nint, void> _destroy;
    // rd_kafka_mock_cluster_t *rd_kafka_mock_cluster_new(rd_kafka_t *rk, int broker_cnt)
    private readonly delegate* unmanaged[Cdecl]<nint, int, nint> _mockClusterNew;
    // const char *rd_kafka_mock_cluster_bootstraps(const rd_kafka_mock_cluster_t *mcluster)
    private readonly delegate* unmanaged[Cdecl]<nint, byte*> _mockClusterBootstraps;
    // rd_kafka_resp_err_t rd_kafka_mock_topic_create(rd_kafka_mock_cluster_t *mcluster, const char *topic, int partition_cnt, int replication_factor)
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, int, int, int> _mockTopicCreate;
    // void rd_kafka_mock_group_initial_rebalance_delay_ms(rd_kafka_mock_cluster_t *mcluster, int32_t delay_ms)
    private readonly delegate* unmanaged[Cdecl]<nint, int, void> _mockGroupInitialRebalanceDelayMs;
    // rd_kafka_resp_err_t rd_kafka_mock_broker_set_down(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id)
    private readonly delegate* unmanaged[Cdecl]<nint, int, int> _mockBrokerSetDown;
    // rd_kafka_resp_err_t rd_kafka_mock_broker_set_up(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id)
    private readonly delegate* unmanaged[Cdecl]<nint, int, int> _mockBrokerSetUp;
    // rd_kafka_resp_err_t rd_kafka_mock_partition_delete_records(rd_kafka_mock_cluster_t *mcluster, const char *topic, int32_t partition, int64_t before_offset)
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, int, long, int> _mockPartitionDeleteRecords;
    // void rd_kafka_mock_cluster_destroy(rd_kafka_mock_cluster_t *mcluster)
    private readonly delegate* unmanaged[Cdecl]<nint, void> _mockClusterDestroy;

    private Librdkafka(nint library)
    {
        _versionStr = (delegate* unmanaged[Cdecl]<byte*>)NativeLibrary.GetExport(library, "rd_kafka_version_str");
        _err2str = (delegate* unmanaged[Cdecl]<int, byte*>)NativeLibrary.GetExport(library, "rd_kafka_err2str");
        _confNew = (delegate* unmanaged[Cdecl]<nint>)NativeLibrary.GetExport(library, "rd_kafka_conf_new");
        _confSet = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, byte*, nuint, int>)NativeLibrary.GetExport(library, "rd_kafka_conf_set");
        _confSetLogCb = (delegate* unmanaged[Cdecl]<nint, delegate* unmanaged[Cdecl]<nint, int, byte*, byte*, void>, void>)NativeLibrary.GetExport(library, "rd_kafka_conf_set_log_cb");
        _confSetOpaque = (delegate* unmanaged[Cdecl]<nint, nint, void>)NativeLibrary.GetExport(library, "rd_kafka_conf_set_opaque");
        _confDestroy = (delegate* unmanaged[Cdecl]<nint, void>)NativeLibrary.GetExport(library, "rd_kafka_conf_destroy");
        _new = (delegate* unmanaged[Cdecl]<int, nint, byte*, nuint, nint>)NativeLibrary.GetExport(library, "rd_kafka_new");
        _opaque = (delegate* unmanaged[Cdecl]<nint, nint>)NativeLibrary.GetExport(library, "rd_kafka_opaque");
        _destroy = (delegate* unmanaged[Cdecl]<nint, void>)NativeLibrary.GetExport(library, "rd_kafka_destroy");
        _mockClusterNew = (delegate* unmanaged[Cdecl]<nint, int, nint>)NativeLibrary.GetExport(library, "rd_kafka_mock_cluster_new");
        _mockClusterBootstraps = (delegate* unmanaged[Cdecl]<nint, byte*>)NativeLibrary.GetExport(library, "rd_kafka_mock_cluster_bootstraps");
        _mockTopicCreate = (delegate* unmanaged[Cdecl]<nint, byte*, int, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_topic_create");
        _mockGroupInitialRebalanceDelayMs = (delegate* unmanaged[Cdecl]<nint, int, void>)NativeLibrary.GetExport(library, "rd_kafka_mock_group_initial_rebalance_delay_ms");
        _mockBrokerSetDown = (delegate* unmanaged[Cdecl]<nint, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_down");
        _mockBrokerSetUp = (delegate* unmanaged[Cdecl]<nint, int, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_up");
        _mockPartitionDeleteRecords = (delegate* unmanaged[Cdecl]<nint, byte*, int, long, int>)NativeLibrary.GetExport(library, "rd_kafka_mock_partition_delete_records");
        _mockClusterDestroy = (delegate* unmanaged[Cdecl]<nint, void>)NativeLibrary.GetExport(library, "rd_kafka_mock_cluster_destroy");
    }

    public string Version => Marshal.PtrToStringUTF8((nint)_versionStr()) ?? "unknown";

    public string ErrorText(int error) => Marshal.PtrToStringUTF8((nint)_err2str(error)) ?? $"error {error}";

    /// <summary>
    /// A producer handle that only exists to own a mock cluster. Its log lines (and the mock
    /// cluster's, which log through it) go to <paramref name="logger"/>, which must stay allocated
    /// until <see cref="Destroy"/> has returned.
    /// </summary>
    public nint NewOwner(GCHandle logger, IReadOnlyDictionary<string, string> config)
    {
        var conf = _confNew();
        var error = stackalloc byte[ErrorBufferSize];
        foreach (var (name, value) in config)
        {
            fixed (byte* n = NullTerminated(name), v = NullTerminated(value))
            {
                if (_confSet(conf, n, v, error, ErrorBufferSize) != ConfOk)
                {
                    _confDestroy(conf);
                    throw new InvalidOperationException($"librdkafka rejected {name}={value}: {Text(error)}");
                }
            }
        }
        _confSetOpaque(conf, GCHandle.ToIntPtr(logger));
        _confSetLogCb(conf, &OnLog);

        var rk = _new(ProducerType, conf, error, ErrorBufferSize);
        if (rk == 0)
        {
            _confDestroy(conf); // rd_kafka_new takes the conf only when it succeeds
            throw new InvalidOperationException($"librdkafka could not create the mock cluster's owner handle: {Text(error)}");
        }
        return rk;
    }

    public void Destroy(nint rk) => _destroy(rk);

    public nint MockClusterNew(nint rk, int brokers) => _mockClusterNew(rk, brokers);

    public string MockClusterBootstraps(nint cluster) => Text(_mockClusterBootstraps(cluster));

    public int MockTopicCreate(nint cluster, string topic, int partitions, int replicationFactor)
    {
        fixed (byte* name = NullTerminated(topic))
            return _mockTopicCreate(cluster, name, partitions, replicationFactor);
    }

    public void MockGroupInitialRebalanceDelayMs(nint cluster, int delayMs) => _mockGroupInitialRebalanceDelayMs(cluster, delayMs);

    public int MockBrokerSetDown(nint cluster, int brokerId) => _mockBrokerSetDown(cluster, brokerId);

    public int MockBrokerSetUp(nint cluster, int brokerId) => _mockBrokerSetUp(cluster, brokerId);

    /// <summary>
    /// Drops the partition's message sets that end before <paramref name="beforeOffset"/> and makes it the log's start.
    /// The mock sets the start even when it is below the current one (a log start pointing at deleted batches), so
    /// callers must only move it forward.
    /// </summary>
    public int MockPartitionDeleteRecords(nint cluster, string topic, int partition, long beforeOffset)
    {
        fixed (byte* name = NullTerminated(topic))
            return _mockPartitionDeleteRecords(cluster, name, partition, beforeOffset);
    }

    public void MockClusterDestroy(nint cluster) => _mockClusterDestroy(cluster);

    // Runs on librdkafka's own threads: an exception escaping here would take the process down.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(nint rk, int level, byte* facility, byte* message)
    {
        try
        {
            if (GCHandle.FromIntPtr(Instance._opaque(rk)).Target is not ILogger logger) return;
            var logLevel = level switch
            {
                <= 2 => LogLevel.Critical, // LOG_EMERG, LOG_ALERT, LOG_CRIT
                3 => LogLevel.Error,
                4 => LogLevel.Warning,
                5 or 6 => LogLevel.Information, // LOG_NOTICE, LOG_INFO
                _ => LogLevel.Debug,
            };
            if (logger.IsEnabled(logLevel))
                logger.Log(logLevel, "librdkafka {Facility}: {Message}", Text(facility), Text(message));
        }
        catch (Exception)
        {
            // Nowhere left to report a failure to log.
        }
    }

    private static string Text(byte* utf8) => Marshal.PtrToStringUTF8((nint)utf8) ?? "";

    private static byte[] NullTerminated(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    // Confluent.Kafka binds "librdkafka" first and falls back to the builds with fewer system
    // dependencies (on Debian 12 the default build needs libsasl2.so.3 and fails to load). Trying the
    // same names through the same probing (the app's deps.json native assets) makes the loader hand
    // back the file Confluent.Kafka already has, instead of a second copy of librdkafka.
    private static nint LoadLibrary()
    {
        string[] names = OperatingSystem.IsLinux()
            ? ["librdkafka", "centos8-librdkafka", "alpine-librdkafka"]
            : ["librdkafka"];
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, typeof(Librdkafka).Assembly, searchPath: null, out var handle))
                return handle;
        }
        throw new DllNotFoundException(
            $"None of {string.Join(", ", names)} could be loaded; the NuGet package librdkafka.redist (a dependency of Confluent.Kafka) provides them under runtimes/<rid>/native.");
    }
}
