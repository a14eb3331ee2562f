using System.Text;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.Deploy.Tests;

/// <summary>
/// The dev stack's engine is ClickHouse itself (embedded, one node, no Keeper): it cannot create Replicated or
/// Distributed tables, but its parser is the server's. Every statement of the cluster DDL must parse
/// (<c>EXPLAIN AST</c>), so a typo in a migration's cluster form shows here rather than on someone's cluster.
/// </summary>
public sealed partial class ClusterDdlParseTests(DevStackFixture stack) : IClassFixture<DevStackFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_statement_of_the_cluster_DDL_parses_on_the_ClickHouse_engine()
    {
        using var output = new StringWriter();
        Assert.Equal(0, Cli.Run(["schema", "--cluster", "insights"], output, TextWriter.Null));
        var statements = Regex.Split(Regex.Replace(output.ToString(), @"(?m)^--.*$", ""), @";\s*(?:\n|$)")
            .Select(s => s.Trim()).Where(s => s.Length > 0 && !s.StartsWith("USE ", StringComparison.Ordinal)).ToList();
        Assert.True(statements.Count > 30, $"only {statements.Count} statements");

        using var http = new HttpClient { BaseAddress = new Uri(stack.ClickHouseUrl), Timeout = TimeSpan.FromSeconds(60) };
        var refused = new List<string>();
        foreach (var statement in statements)
        {
            var (ok, answer) = await ExplainAsync(http, statement);
            if (!ok)
            {
                refused.Add($"{answer.Trim()}\n  in: {statement[..Math.Min(200, statement.Length)]}");
            }
        }

        Assert.True(refused.Count == 0, string.Join("\n\n", refused));

        // The check can fail: a statement the cluster form could plausibly break is refused.
        var broken = statements.First(s => s.StartsWith("CREATE TABLE IF NOT EXISTS events_local", StringComparison.Ordinal))
            .Replace("ENGINE = Replicated", "ENGINE = (Replicated", StringComparison.Ordinal);
        Assert.False((await ExplainAsync(http, broken)).Ok, "a statement with an unbalanced parenthesis parsed");
    }

    private static async Task<(bool Ok, string Answer)> ExplainAsync(HttpClient http, string statement)
    {
        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), new StringContent("EXPLAIN AST " + statement, Encoding.UTF8, "text/plain"), Ct);
        return (response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
    }
}
