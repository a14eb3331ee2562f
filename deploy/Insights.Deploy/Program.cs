using System.Globalization;
using Insights.Deploy;
using Insights.Storage;

// dotnet run --project deploy/Insights.Deploy -- schema [--cluster NAME] [--database NAME] [--retention-days N]
//                                                        [--replication-path PATH] [--replica-name NAME]
// dotnet run --project deploy/Insights.Deploy -- topics [--bootstrap HOST:PORT] [--partitions N]
// Prints; changes nothing. The options have the services' own defaults (ClickHouse:* settings, the contract's topic names).
return Cli.Run(args, Console.Out, Console.Error);

namespace Insights.Deploy
{
    internal static class Cli
    {
        private const string Usage = """
            usage: Insights.Deploy schema [--cluster NAME] [--database NAME] [--retention-days N] [--replication-path PATH] [--replica-name NAME]
                   Insights.Deploy topics [--bootstrap HOST:PORT] [--partitions N]
            """;

        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            if (args.Length == 0 || args[0] is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }

            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 1; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    error.WriteLine($"deploy: expected --option VALUE at '{args[i]}'\n{Usage}");
                    return 2;
                }

                options[args[i][2..]] = args[++i];
            }

            try
            {
                switch (args[0])
                {
                    case "schema":
                        output.Write(SchemaRendering.Render(Storage(options)));
                        return 0;
                    case "topics":
                        Known(options, "bootstrap", "partitions");
                        var partitions = int.Parse(options.GetValueOrDefault("partitions", "48"), CultureInfo.InvariantCulture);
                        if (partitions is < 1 or > 10_000)
                        {
                            throw new ArgumentException("--partitions must be 1 to 10000");
                        }

                        output.Write(TopicLayout.Render(options.GetValueOrDefault("bootstrap", "kafka:9092"), partitions));
                        return 0;
                    default:
                        error.WriteLine($"deploy: unknown command '{args[0]}'\n{Usage}");
                        return 2;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                error.WriteLine($"deploy: {e.Message}");
                return 2;
            }
        }

        /// <summary>The ClickHouse settings the render uses, checked by the same rules the services apply at start-up.</summary>
        private static ClickHouseStorageOptions Storage(Dictionary<string, string> options)
        {
            Known(options, "cluster", "database", "retention-days", "replication-path", "replica-name");
            var storage = new ClickHouseStorageOptions();
            storage.Cluster = options.GetValueOrDefault("cluster", storage.Cluster ?? "");
            storage.Database = options.GetValueOrDefault("database", storage.Database);
            storage.ReplicationPath = options.GetValueOrDefault("replication-path", storage.ReplicationPath);
            storage.ReplicaName = options.GetValueOrDefault("replica-name", storage.ReplicaName);
            if (options.TryGetValue("retention-days", out var days))
            {
                storage.RetentionDays = int.Parse(days, CultureInfo.InvariantCulture);
            }

            var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(storage, new(storage), results, validateAllProperties: true))
            {
                throw new ArgumentException(string.Join("; ", results.Select(r => $"{string.Join(",", r.MemberNames)}: {r.ErrorMessage}")));
            }

            // The path and replica name are pasted into SQL string literals.
            if (storage.ReplicationPath.Contains('\'', StringComparison.Ordinal) || storage.ReplicaName.Contains('\'', StringComparison.Ordinal))
            {
                throw new ArgumentException("--replication-path and --replica-name must not contain quotes");
            }

            return storage;
        }

        private static void Known(Dictionary<string, string> options, params string[] known)
        {
            var unknown = options.Keys.Where(k => !known.Contains(k)).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"unknown option --{unknown[0]}");
            }
        }
    }
}
