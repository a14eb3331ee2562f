using System.Text.Json;

namespace Insights.Dashboards.Tests;

/// <summary>One query of one panel of a board, as Grafana would send it to the ClickHouse data source.</summary>
public sealed record PanelQuery(string Board, string Panel, string PanelType, string RefId, string Sql)
{
    public override string ToString() => $"{Board} / {Panel} / {RefId}";
}

/// <summary>The dashboards shipped in <c>dashboards/</c>, copied next to the tests.</summary>
public static class Boards
{
    public const string DataSourceType = "grafana-clickhouse-datasource";

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "dashboards");

    /// <summary>Every query of every panel (rows' nested panels too) of every board on the ClickHouse data source.</summary>
    public static IReadOnlyList<PanelQuery> ClickHouseQueries()
    {
        var queries = new List<PanelQuery>();
        foreach (var file in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            using var board = JsonDocument.Parse(File.ReadAllText(file));
            Collect(Path.GetFileName(file), board.RootElement.GetProperty("panels"), queries);
        }

        return queries;
    }

    public static PanelQuery Query(string board, string panel, string refId = "A") =>
        ClickHouseQueries().Single(q => q.Board == board && q.Panel == panel && q.RefId == refId);

    private static void Collect(string board, JsonElement panels, List<PanelQuery> queries)
    {
        foreach (var panel in panels.EnumerateArray())
        {
            if (panel.TryGetProperty("panels", out var nested))
            {
                Collect(board, nested, queries);
            }

            if (!panel.TryGetProperty("targets", out var targets)
                || !panel.TryGetProperty("datasource", out var source) || source.GetProperty("type").GetString() != DataSourceType)
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                queries.Add(new PanelQuery(board, panel.GetProperty("title").GetString()!, panel.GetProperty("type").GetString()!,
                    target.GetProperty("refId").GetString()!, target.GetProperty("rawSql").GetString()!));
            }
        }
    }
}
