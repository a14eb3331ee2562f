using System.ComponentModel.DataAnnotations;

namespace Insights.Storage;

/// <summary>Where and how the Insights schema lives in ClickHouse (section <c>ClickHouse</c>).</summary>
public sealed class ClickHouseStorageOptions
{
    /// <summary>ClickHouse.Driver connection string; the dev stack's address is the default.</summary>
    [Required]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Port=8123;Username=default;Password=";

    /// <summary>Database holding every Insights table; created by the migrator.</summary>
    [Required]
    [RegularExpression("^[A-Za-z_][A-Za-z0-9_]{0,63}$", ErrorMessage = "must be a plain identifier")]
    public string Database { get; set; } = "insights";

    /// <summary>Cluster name for ON CLUSTER / Replicated* / Distributed; empty on a single node (and the dev stack).</summary>
    [RegularExpression("^([A-Za-z_][A-Za-z0-9_]{0,63})?$", ErrorMessage = "must be a plain identifier or empty")]
    public string? Cluster { get; set; }

    /// <summary>ZooKeeper/Keeper path of replicated tables; {database} and {table} are filled by ClickHouse.</summary>
    public string ReplicationPath { get; set; } = "/clickhouse/tables/{shard}/{database}/{table}";

    /// <summary>Replica name macro of replicated tables.</summary>
    public string ReplicaName { get; set; } = "{replica}";

    /// <summary>Days raw events are kept (TTL). Longer keeps more history and costs disk.</summary>
    [Range(1, 36500)]
    public int RetentionDays { get; set; } = 400;

    /// <summary>
    /// Encoded bytes of ids per look-up query (they ride in the URL, see LookupChunks): larger means fewer queries for a
    /// batch of new visitors; the ceiling keeps each parameter under ClickHouse's 128 KiB per-field limit.
    /// </summary>
    [Range(LookupChunks.MinBudgetBytes, LookupChunks.MaxBudgetBytes)]
    public int LookupMaxBytes { get; set; } = LookupChunks.DefaultBudgetBytes;

    public bool IsCluster => !string.IsNullOrEmpty(Cluster);
}
