using System.Globalization;
using System.Text.RegularExpressions;

namespace Insights.Storage;

/// <summary>
/// Turns a migration file into the statements for this deployment. Migrations are written once with
/// placeholders; the engine and cluster parts come from configuration:
/// <list type="bullet">
/// <item><c>{{table:x}}</c> — <c>x</c> on a single node, <c>x_local</c> on a cluster (the shard-local table).</item>
/// <item><c>{{on_cluster}}</c> — empty, or <c>ON CLUSTER name</c>.</item>
/// <item><c>{{engine:ReplacingMergeTree(v)}}</c> — the engine, or its Replicated form with path and replica.</item>
/// <item><c>{{distributed:x:sharding_key}}</c> — on a cluster, the Distributed table <c>x</c> over <c>x_local</c>;
/// on a single node the statement is dropped.</item>
/// <item><c>{{all_shards:x}}</c> — a table to read every row of: <c>x</c> on a single node, on a cluster
/// <c>x_local</c> of every shard (the <c>cluster</c> table function, one replica each).</item>
/// <item><c>{{database}}</c>, <c>{{retention_days}}</c>.</item>
/// </list>
/// </summary>
public static partial class MigrationRenderer
{
    public static IReadOnlyList<string> Render(string migration, ClickHouseStorageOptions options) =>
        SplitStatements(StripComments(migration))
            .Select(statement => Placeholder().Replace(statement, m => Expand(m.Groups[1].Value, m.Groups[2].Value, options)))
            .Select(statement => statement.Trim())
            .Where(statement => statement.Length > 0)
            .ToList();

    private static string Expand(string name, string argument, ClickHouseStorageOptions options)
    {
        var cluster = options.IsCluster;
        switch (name)
        {
            case "table":
                return cluster ? argument + "_local" : argument;
            case "on_cluster":
                return OnCluster(options);
            case "database":
                return options.Database;
            case "retention_days":
                return options.RetentionDays.ToString(CultureInfo.InvariantCulture);
            case "all_shards":
                return cluster ? $"cluster('{options.Cluster}', '{options.Database}', '{argument}_local')" : argument;
            case "engine":
                return cluster ? Replicated(argument, options) : argument;
            case "distributed":
                var parts = argument.Split(':', 2);
                if (!cluster)
                {
                    return "";
                }

                var table = parts[0];
                var shardingKey = parts.Length > 1 ? parts[1] : "rand()";
                return $"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {options.Cluster} AS {table}_local " +
                       $"ENGINE = Distributed({options.Cluster}, {options.Database}, {table}_local, {shardingKey})";
            default:
                throw new InvalidOperationException($"Unknown migration placeholder '{{{{{name}}}}}'.");
        }
    }

    /// <summary><c>ON CLUSTER name</c> on a cluster, else nothing: what <c>{{on_cluster}}</c> stands for.</summary>
    public static string OnCluster(ClickHouseStorageOptions options) => options.IsCluster ? $"ON CLUSTER {options.Cluster}" : "";

    /// <summary><c>ReplacingMergeTree(v)</c> → <c>ReplicatedReplacingMergeTree('path', 'replica', v)</c>.</summary>
    private static string Replicated(string engine, ClickHouseStorageOptions options)
    {
        var open = engine.IndexOf('(', StringComparison.Ordinal);
        var family = open < 0 ? engine : engine[..open];
        var arguments = open < 0 ? "" : engine[(open + 1)..engine.LastIndexOf(')')].Trim();
        var replication = $"'{options.ReplicationPath}', '{options.ReplicaName}'";
        return $"Replicated{family}({replication}{(arguments.Length > 0 ? ", " + arguments : "")})";
    }

    private static string StripComments(string sql) => LineComment().Replace(sql, "");

    /// <summary>Statements end with a semicolon at the end of a line; the server takes one statement per request.</summary>
    private static IEnumerable<string> SplitStatements(string sql) => StatementEnd().Split(sql);

    [GeneratedRegex(@"\{\{([a-z_]+)(?::([^}]*))?\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^\s*--.*$", RegexOptions.Multiline)]
    private static partial Regex LineComment();

    [GeneratedRegex(@";[ \t]*(?:\r?\n|$)")]
    private static partial Regex StatementEnd();
}
