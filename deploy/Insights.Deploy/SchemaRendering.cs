using System.Text;
using Insights.Storage;

namespace Insights.Deploy;

/// <summary>The ClickHouse schema as one SQL script, each statement ended by <c>;</c> and each migration named.</summary>
internal static class SchemaRendering
{
    public static string Render(ClickHouseStorageOptions options)
    {
        var text = new StringBuilder();
        text.AppendLine(options.IsCluster
            ? $"-- Insights schema for cluster {options.Cluster}: Replicated* shard-local tables (*_local) and Distributed tables over them."
            : "-- Insights schema for a single ClickHouse server.");
        text.AppendLine("-- Rendered from storage/Insights.Storage/Migrations; the services apply the same statements at start-up.");
        text.AppendLine();
        text.Append(SchemaScript.CreateDatabase(options)).AppendLine(";");
        text.AppendLine($"USE {options.Database};");
        text.AppendLine();
        text.AppendLine("-- schema_migrations: which migrations were applied");
        foreach (var statement in SchemaScript.TrackingTable(options))
        {
            text.AppendLine(statement + ";").AppendLine();
        }

        foreach (var (migration, statements) in SchemaScript.Migrations(options))
        {
            text.AppendLine($"-- {migration.Name}");
            foreach (var statement in statements)
            {
                text.AppendLine(statement + ";").AppendLine();
            }
        }

        return text.ToString();
    }
}
