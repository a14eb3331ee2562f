using System.Text.RegularExpressions;
using Insights.Contracts;
using Insights.Storage;

namespace Insights.Deploy.Tests;

/// <summary>
/// The production DDL is the dev stack's schema rendered for a cluster (same migration files, one renderer); the dev
/// engine cannot run Replicated or Distributed engines (they need ClickHouse Keeper and a cluster), so these tests
/// check the rendering's shape, table by table, rather than run it.
/// </summary>
public sealed partial class RenderingTests
{
    private static readonly ClickHouseStorageOptions Cluster = new() { Cluster = "analytics", Database = "insights" };

    private static string Print(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Cli.Run(args, output, error);
        Assert.True(exit == 0, error.ToString());
        return output.ToString();
    }

    /// <summary>The script's statements, as the server would take them one by one.</summary>
    private static List<string> Statements(string script) =>
        [.. Regex.Split(Regex.Replace(script, @"(?m)^--.*$", ""), @";\s*(?:\n|$)").Select(s => s.Trim()).Where(s => s.Length > 0)];

    /// <summary>Every table the single-node schema creates (what the dev stack runs).</summary>
    private static List<string> SingleNodeTables() =>
        [.. Statements(Print("schema")).Select(s => CreateTable().Match(s)).Where(m => m.Success).Select(m => m.Groups[1].Value)];

    [Fact]
    public void Every_table_of_the_dev_schema_gets_a_replicated_local_table_and_a_distributed_table_on_the_cluster()
    {
        var tables = SingleNodeTables();
        Assert.Contains("events", tables);
        Assert.Contains("sessions", tables);
        Assert.True(tables.Count >= 12, $"only {tables.Count} tables: {string.Join(", ", tables)}");
        var statements = Statements(Print("schema", "--cluster", "analytics"));

        foreach (var table in tables)
        {
            var local = statements.SingleOrDefault(s => s.StartsWith($"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER analytics", StringComparison.Ordinal));
            Assert.True(local is not null, $"no shard-local table for {table}");
            Assert.Matches(@"ENGINE = Replicated(Replacing|Aggregating)?MergeTree\('/clickhouse/tables/\{shard\}/\{database\}/\{table\}', '\{replica\}'(, \w+)?\)", local);

            var distributed = statements.SingleOrDefault(s => s.StartsWith($"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER analytics AS {table}_local", StringComparison.Ordinal));
            Assert.True(distributed is not null, $"no Distributed table for {table}");
            Assert.Matches($@"ENGINE = Distributed\(analytics, insights, {table}_local, [^)]+\)+$", distributed);
        }
    }

    [Fact]
    public void Every_statement_on_a_cluster_runs_on_every_node_and_no_table_is_left_unreplicated()
    {
        var statements = Statements(Print("schema", "--cluster", "analytics"));
        // Reads and copies run on the node the migrator talks to (a copy reads every shard through cluster()); a guard
        // (a comment at the start: run only if its query says so) is not part of the statement.
        foreach (var statement in statements.Select(s => Regex.Replace(s, @"^/\*\s*only if:.*?\*/\s*", "", RegexOptions.Singleline))
                     .Where(s => !s.StartsWith("USE ", StringComparison.Ordinal) && !s.StartsWith("INSERT ", StringComparison.Ordinal) && !s.StartsWith("SELECT ", StringComparison.Ordinal)))
        {
            Assert.Contains(" ON CLUSTER analytics", statement, StringComparison.Ordinal);
        }

        foreach (Match engine in Regex.Matches(string.Join('\n', statements), @"ENGINE = (\w+)"))
        {
            Assert.True(engine.Groups[1].Value.StartsWith("Replicated", StringComparison.Ordinal) || engine.Groups[1].Value == "Distributed",
                $"{engine.Value}: a table that is neither replicated nor distributed would hold one replica's data only");
        }

        Assert.All(statements, s => Assert.DoesNotContain("{{", s, StringComparison.Ordinal));
        Assert.All(statements, s => Assert.Equal(s.Count(c => c == '('), s.Count(c => c == ')')));
        // The materialized view reads and writes the shard-local tables: each shard rolls up its own events.
        Assert.Contains(statements, s => s.Contains("MATERIALIZED VIEW IF NOT EXISTS visitor_quarters_feed_local ON CLUSTER analytics TO visitor_quarters_local", StringComparison.Ordinal)
                                         && s.Contains("FROM events_local", StringComparison.Ordinal));
    }

    [Fact]
    public void Events_and_sessions_are_sharded_by_site_and_visitor_so_a_visitors_events_and_visits_share_a_shard()
    {
        var statements = Statements(Print("schema", "--cluster", "analytics"));
        string Key(string table) => Regex.Match(statements.Single(s => s.StartsWith($"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER", StringComparison.Ordinal)),
            @$"Distributed\(analytics, insights, {table}_local, (.+)\)$").Groups[1].Value;

        Assert.Equal("cityHash64(site_id, anonymous_id)", Key("events"));
        Assert.Equal(Key("events"), Key("sessions"));
        Assert.Equal("cityHash64(site_id, visitor)", Key("visitor_quarters"));
    }

    [Fact]
    public void The_single_node_render_is_what_the_migrator_applies_on_the_dev_stack()
    {
        var printed = Statements(Print("schema"));
        var options = new ClickHouseStorageOptions();
        var applied = new List<string> { SchemaScript.CreateDatabase(options), "USE insights" };
        applied.AddRange(SchemaScript.TrackingTable(options));
        applied.AddRange(SchemaMigrator.Migrations.SelectMany(m => MigrationRenderer.Render(m.Sql, options)));

        Assert.Equal(applied.Select(s => s.ReplaceLineEndings("\n")), printed.Select(s => s.ReplaceLineEndings("\n")));
        Assert.DoesNotContain("Replicated", string.Join('\n', printed), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("schema", "--cluster", "a;DROP TABLE events")]
    [InlineData("schema", "--database", "insights; DROP")]
    [InlineData("schema", "--replication-path", "/x/'{shard}'")]
    [InlineData("schema", "--retention-days", "0")]
    [InlineData("schema", "--nope", "1")]
    [InlineData("topics", "--partitions", "0")]
    [InlineData("topics", "--partitions", "many")]
    [InlineData("schema", "--cluster")]
    [InlineData("drop")]
    public void Hostile_or_malformed_options_are_refused_with_exit_2_and_nothing_printed(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, Cli.Run(args, output, error));
        Assert.Equal("", output.ToString());
        Assert.NotEqual("", error.ToString());
    }

    [Fact]
    public void The_topic_layout_replicates_every_topic_three_times_with_two_in_sync_and_names_the_contract_topics()
    {
        var text = Print("topics", "--bootstrap", "kafka-0:9092");
        var commands = text.Split('\n').Where(l => l.StartsWith("kafka-topics.sh ", StringComparison.Ordinal)).ToList();

        Assert.Equal([Topics.Events, Topics.Enriched, Topics.DeadLetters], commands.Select(c => Regex.Match(c, @"--topic (\S+)").Groups[1].Value));
        Assert.All(commands, c => Assert.Contains("--bootstrap-server kafka-0:9092 ", c, StringComparison.Ordinal));
        Assert.All(commands, c => Assert.Contains("--replication-factor 3 --config min.insync.replicas=2", c, StringComparison.Ordinal));
        Assert.Contains($"--topic {Topics.Events} --partitions 48 ", text, StringComparison.Ordinal);
        Assert.Contains($"--topic {Topics.Events} --partitions 96 ", Print("topics", "--partitions", "96"), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^CREATE TABLE IF NOT EXISTS (\w+) ")]
    private static partial Regex CreateTable();
}
