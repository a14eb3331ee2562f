using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// The operator's back-fill and replay through the README's commands: <c>scripts/run.sh</c>, a site created with
/// <c>scripts/admin.sh</c>, an NDJSON file imported with <c>admin.sh events import</c> (hostile lines reported by number
/// and skipped), the query API counting exactly the file's events — again after a second run of the same import and
/// after <c>admin.sh events replay</c> put every one of them through the processors once more.
/// </summary>
public sealed partial class ImportRunTests(ITestOutputHelper output)
{
    private const string Site = "import-shop";
    private const int Events = 240;
    private const int Visitors = 30;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_ndjson_file_imported_twice_and_replayed_is_counted_exactly_once_and_its_bad_lines_are_reported_by_number()
    {
        await using var system = await RunningSystem.StartAsync("import");
        var (query, environment) = (system.Query, system.Environment);

        var organisation = OrganisationLine().Match(await AdminAsync(environment, 0, "orgs", "create", "--name", "Import Co")).Groups[1].Value;
        var keys = KeyPattern().Matches(await AdminAsync(environment, 0, "sites", "create", "--org", organisation, "--id", Site, "--name", "Import shop"))
            .Select(m => m.Value).ToList();
        var (serverKey, readKey) = (keys.Single(k => k.StartsWith("ik_srv_", StringComparison.Ordinal)), keys.Single(k => k.StartsWith("ik_read", StringComparison.Ordinal)));

        var file = Path.Combine(system.State, "export.ndjson");
        var bad = await WriteExportAsync(file);
        var checkpoint = file + ".checkpoint";

        // 1. The import: every good line in, every bad one named by its number, exit 5 (done, lines skipped).
        var first = await AdminAsync(environment, 5, "events", "import", file, "--site", Site, "--key", serverKey, "--checkpoint", checkpoint, "--batch", "50");
        foreach (var (line, reason) in bad)
        {
            Assert.Matches($"(?m)^line {line}: {reason}: ", first);
        }

        Assert.Contains($"imported into site {Site}: {Events} events accepted by ingest", first, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^import: +\d+\.\d%", first); // progress as plain lines when not on a terminal
        await EventuallyAsync(query, readKey, Events, Visitors, "the first import");

        // 2. The checkpoint says the file is done: a resumed run starts after its last line and sends nothing.
        var resumed = await AdminAsync(environment, 0, "events", "import", file, "--site", Site, "--key", serverKey, "--checkpoint", checkpoint);
        Assert.Contains($"{Events} events accepted by ingest from 0 lines read, resumed at line", resumed, StringComparison.Ordinal);

        // 3. The same file again from the first line: same ids, so ingest takes every event again and storage keeps each once.
        var secondAt = await ClickHouseAsync(system.State, "SELECT toString(now64(3, 'UTC'))");
        await AdminAsync(environment, 5, "events", "import", file, "--site", Site, "--key", serverKey, "--no-progress");
        await RewrittenAsync(system.State, secondAt, "the second import");
        await EventuallyAsync(query, readKey, Events, Visitors, "the second import");

        // 4. A replay of the site's raw events (both imports: 2 × N messages) through the processors: rows rewritten, no number moves.
        var dry = await AdminAsync(environment, 0, "events", "replay", "--from", "1h", "--site", Site, "--dry-run");
        Assert.Contains($"dry run: {2 * Events} events would be replayed", dry, StringComparison.Ordinal);
        var replayAt = await ClickHouseAsync(system.State, "SELECT toString(now64(3, 'UTC'))");
        var replay = await AdminAsync(environment, 0, "events", "replay", "--from", "1h", "--site", Site, "--rate", "2000");
        Assert.Contains($"replayed {2 * Events} events into insights.events", replay, StringComparison.Ordinal);
        await RewrittenAsync(system.State, replayAt, "the replay");
        var stats = await EventuallyAsync(query, readKey, Events, Visitors, "the replay");
        Assert.Equal(Visitors, stats.GetProperty("totals").GetProperty("visits").GetInt64());
    }

    /// <summary>
    /// <see cref="Events"/> page views of <see cref="Visitors"/> visitors over the last day (one visit each: 8 views a
    /// minute apart), half with their own messageId, non-ASCII paths; between them the hostile lines, whose numbers and
    /// reasons are returned.
    /// </summary>
    private static async Task<List<(int Line, string Reason)>> WriteExportAsync(string path)
    {
        var now = DateTimeOffset.UtcNow;
        var lines = new List<byte[]>();
        var bad = new List<(int, string)>();
        void Bad(byte[] line, string reason)
        {
            lines.Add(line);
            bad.Add((lines.Count, reason));
        }

        for (var i = 0; i < Events; i++)
        {
            var visitor = i % Visitors;
            var at = now.AddHours(-20).AddMinutes((visitor * 30) + (i / Visitors));
            var e = new Dictionary<string, object?>
            {
                ["type"] = "pageview",
                ["anonymousId"] = $"imported-{visitor}",
                ["timestamp"] = at.ToString("O", CultureInfo.InvariantCulture),
                ["sentAt"] = now.AddYears(-1).ToString("O", CultureInfo.InvariantCulture), // an export's; must not shift the time
                ["context"] = new { page = new { url = $"https://shop.example/katalog/grün-{i % 7}", title = "Grüne Seite 🌿" }, ip = "139.48.1.1" },
            };
            if (i % 2 == 0)
            {
                e["messageId"] = $"export-{i}";
            }

            lines.Add(JsonSerializer.SerializeToUtf8Bytes(e));
            switch (i)
            {
                case 10: Bad("{\"type\":\"pageview\",\"anonymousId\":"u8.ToArray(), "invalid_json"); break;
                case 50: Bad(Encoding.UTF8.GetBytes("{\"type\":\"pageview\",\"anonymousId\":\"" + new string('x', 40_000) + "\"}"), "line_too_long"); break;
                case 90: Bad([.. "{\"type\":\"pageview\",\"anonymousId\":\""u8, 0xFF, 0xFE, .. "\"}"u8], "invalid_utf8"); break;
                case 130:
                    Bad(JsonSerializer.SerializeToUtf8Bytes(new { type = "pageview", site_id = "demo", anonymousId = "theirs", timestamp = now.AddHours(-1) }), "other_site");
                    break;
                case 170: Bad(JsonSerializer.SerializeToUtf8Bytes(new { type = "pageview", anonymousId = "undated" }), "missing_timestamp"); break;
                case 210: Bad(JsonSerializer.SerializeToUtf8Bytes(new { type = "teleport", anonymousId = "odd", timestamp = now.AddHours(-1) }), "[a-z_]+"); break; // ingest's own refusal
                default: break;
            }
        }

        await using var file = File.Create(path);
        foreach (var line in lines)
        {
            await file.WriteAsync(line, Ct);
            file.WriteByte((byte)'\n');
        }

        return bad;
    }

    private async Task<string> AdminAsync(IReadOnlyDictionary<string, string> environment, int expectedExit, params string[] arguments)
    {
        var (exit, printed) = await RunScript.AdminAsync(environment, arguments);
        output.WriteLine($"$ admin.sh {string.Join(' ', arguments.Select(a => a.StartsWith("ik_", StringComparison.Ordinal) ? "<key>" : a))}  → {exit}\n{printed}");
        Assert.True(exit == expectedExit, $"admin.sh {arguments[0]} {arguments[1]} exited {exit}, expected {expectedExit}:\n{printed}");
        return printed;
    }

    /// <summary>Waits until the site's report counts exactly these page views and visitors, and returns it.</summary>
    private static async Task<JsonElement> EventuallyAsync(Uri query, string readKey, int pageViews, int visitors, string after)
    {
        using var http = new HttpClient { BaseAddress = query, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("Authorization", $"Bearer {readKey}");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonElement stats = default;
        while (true)
        {
            using var response = await http.GetAsync(new Uri($"/v1/sites/{Site}/stats", UriKind.Relative), Ct);
            if (response.IsSuccessStatusCode)
            {
                stats = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
                if (stats.GetProperty("pageViews").GetInt64() == pageViews && stats.GetProperty("visitors").GetInt64() == visitors)
                {
                    // Held for a moment: a late duplicate would show up as more, not fewer.
                    await Task.Delay(1000, Ct);
                    using var again = await http.GetAsync(new Uri($"/v1/sites/{Site}/stats", UriKind.Relative), Ct);
                    var still = await again.Content.ReadFromJsonAsync<JsonElement>(Ct);
                    Assert.Equal(pageViews, still.GetProperty("pageViews").GetInt64());
                    return still;
                }

                Assert.True(stats.GetProperty("pageViews").GetInt64() <= pageViews, $"after {after} the report counts {stats.GetProperty("pageViews")} page views, the file holds {pageViews}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"after {after} the report still says {stats}");
            await Task.Delay(500, Ct);
        }
    }

    /// <summary>
    /// Waits until every one of the file's events has a row written since <paramref name="since"/> (ClickHouse's clock):
    /// proof a round went through the processors. Merges may already have collapsed the older copies, so rows are
    /// counted by event id and time written, never by their number.
    /// </summary>
    private static async Task RewrittenAsync(string state, string since, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var rewritten = "";
        while (rewritten != Events.ToString(CultureInfo.InvariantCulture))
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 120 s for {what}: {rewritten} of {Events} events of {Site} rewritten since {since}");
            await Task.Delay(500, Ct);
            rewritten = await ClickHouseAsync(state,
                $"SELECT uniqExact(event_id) FROM events WHERE site_id = '{Site}' AND inserted_at >= toDateTime64('{since}', 3, 'UTC')");
        }
    }

    /// <summary>One value from the run's ClickHouse (the dev stack's HTTP interface, its address in devstack.env).</summary>
    private static Task<string> ClickHouseAsync(string state, string sql) =>
        RunScript.ClickHouseAsync(RunScript.DevStack(state)["INSIGHTS_CLICKHOUSE_URL"], sql);

    [GeneratedRegex(@"Organisation .* created: ([0-9a-f-]{36})")]
    private static partial Regex OrganisationLine();

    [GeneratedRegex(@"ik_(pub|srv|read)_[A-Za-z0-9_-]{43}")]
    private static partial Regex KeyPattern();
}
