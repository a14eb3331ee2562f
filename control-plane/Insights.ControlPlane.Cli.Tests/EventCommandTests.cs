using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.ControlPlane.Cli.Tests;

/// <summary>
/// <c>insights-admin events import|replay</c> as an operator meets their refusals: the built CLI as a process against a
/// real SQLite store, each mistake named with its fix and its exit code before anything is sent.
/// </summary>
public sealed partial class EventCommandTests : IDisposable
{
    private readonly AdminCli cli = new();

    [Fact]
    public async Task A_wrong_site_or_key_is_named_before_any_line_is_read_and_an_unreachable_ingest_ends_with_exit_4()
    {
        var (shop, rival) = (await SiteAsync("shop"), await SiteAsync("rival"));
        var file = Path.Combine(cli.Directory, "events.ndjson");
        await File.WriteAllTextAsync(file, """{"type":"pageview","anonymousId":"a","timestamp":"2026-12-04T10:00:00Z"}""" + "\n", TestContext.Current.CancellationToken);

        await cli.FailAsync(1, "no site with id 'nosuch'; list them with insights-admin sites list", "events", "import", file, "--site", "nosuch", "--key", shop.Server);
        await cli.FailAsync(1, "the key is a key of site 'rival', not of 'shop'", "events", "import", file, "--site", "shop", "--key", rival.Server);
        await cli.FailAsync(1, "the key is the site's write key; an import needs its server key", "events", "import", file, "--site", "shop", "--key", shop.Write);
        await cli.FailAsync(1, "the key is not a key of any site", "events", "import", file, "--site", "shop", "--key", "ik_srv_made-up");
        await cli.FailAsync(2, "needs the site's server key", "events", "import", file, "--site", "shop");
        await cli.FailAsync(1, "cannot read", "events", "import", Path.Combine(cli.Directory, "missing.ndjson"), "--site", "shop", "--key", shop.Server);
        await cli.FailAsync(2, "--batch must be 1 to 500", "events", "import", file, "--site", "shop", "--batch", "501");

        var port = TestProcess.FreePorts(1)[0];
        var error = await cli.FailAsync(4, "gave up after 2 s of retries: ingest unreachable", "events", "import", file, "--site", "shop", "--key", shop.Server,
            "--ingest", $"http://127.0.0.1:{port}", "--retry-for", "2s", "--no-progress");
        Assert.Contains("run the same command again", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dry_run_lists_refused_lines_by_number_and_exits_5_and_replay_refuses_an_empty_range()
    {
        await SiteAsync("shop");
        var file = Path.Combine(cli.Directory, "events.ndjson");
        var now = DateTimeOffset.UtcNow;
        await File.WriteAllTextAsync(file, string.Join('\n',
            $$"""{"type":"pageview","anonymousId":"a","timestamp":"{{now.AddHours(-1):O}}"}""",
            """{"type":"pageview","anonymousId":"b",""",
            $$"""{"type":"pageview","anonymousId":"c","timestamp":"{{now.AddHours(-1):O}}","site_id":"rival"}"""), TestContext.Current.CancellationToken);

        var (code, output) = await cli.RunAsync("events", "import", file, "--site", "shop", "--dry-run");
        Assert.True(code == 5, output);
        Assert.Matches(@"(?m)^line 2: invalid_json: ", output);
        Assert.Matches(@"(?m)^line 3: other_site: the event names site 'rival', not 'shop'", output);
        Assert.Contains("dry run: 3 lines read, 1 events would be sent to site shop, 2 lines refused", output, StringComparison.Ordinal);
        // Not a terminal: progress is plain lines, never the bar's control sequences.
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);

        await cli.FailAsync(2, "must be after --from", "events", "replay", "--from", "1h", "--to", "2h");
        await cli.FailAsync(2, "--from must be ISO 8601", "events", "replay", "--from", "yesterday");
    }

    private async Task<(string Write, string Server)> SiteAsync(string id)
    {
        if (!File.Exists(cli.DefaultStore))
        {
            await cli.SucceedAsync("init", "--partner", "Agency", "--email", "admin@agency.example");
        }

        var created = await cli.SucceedAsync("orgs", "create", "--name", $"Org of {id}");
        var organisation = OrganisationLine().Match(created).Groups[1].Value;
        var keys = AdminCli.Keys(await cli.SucceedAsync("sites", "create", "--org", organisation, "--id", id, "--name", id));
        return (keys.Single(k => k.StartsWith("ik_pub_", StringComparison.Ordinal)), keys.Single(k => k.StartsWith("ik_srv_", StringComparison.Ordinal)));
    }

    [GeneratedRegex(@"Organisation .* created: ([0-9a-f-]{36})")]
    private static partial Regex OrganisationLine();

    public void Dispose() => cli.Dispose();
}
