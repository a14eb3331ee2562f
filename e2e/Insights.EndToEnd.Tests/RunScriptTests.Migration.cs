using System.Globalization;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

public sealed partial class RunScriptTests
{
    /// <summary>
    /// A schema migration that takes longer than a minute (migration 0022 copies the events table: about a minute per
    /// 20 M events) must not make run.sh give up on the processors. Here another process holds the migration lock in
    /// run.sh's own ClickHouse (the table the processors' migrator creates, with a heartbeat far ahead so it is never
    /// taken for a dead one's) for over a minute: run.sh says it is waiting, goes on waiting, and starts once the lock
    /// is released.
    /// </summary>
    [Fact]
    public async Task Run_sh_waits_out_a_schema_migration_longer_than_a_minute_and_starts_when_it_is_done()
    {
        var state = Directory.CreateTempSubdirectory("insights-migrating-");
        try
        {
            var clickHouse = Path.Combine(state.FullName, "clickhouse");
            var lockSql = "CREATE TABLE insights.schema_migrations_lock (holder String) ENGINE = Memory COMMENT " +
                          $"'another-host/4242/test|{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}'";
            await using (var before = DevStackProcess.Start(clickHouse, Path.Combine(state.FullName, "before.env")))
            {
                var address = (await before.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)))["INSIGHTS_CLICKHOUSE_URL"];
                await RunScript.ClickHouseAsync(address, "CREATE DATABASE IF NOT EXISTS insights", database: null);
                await RunScript.ClickHouseAsync(address, lockSql);
                Assert.Equal(0, await before.StopAsync(TimeSpan.FromSeconds(30)));
            }

            await using var script = RunScript.Start(RunScript.Environment(TestProcess.FreePorts(3), state.FullName));
            await script.WaitForLineAsync(WaitingLine(), RunScript.StartTimeout);
            // Past the minute after which run.sh used to stop everything ("did not become healthy"; now its limit for a
            // service that does not answer is time spent not migrating, "did not answer").
            await script.WaitForLineAsync(WaitedOverAMinuteLine(), TimeSpan.FromSeconds(120));
            Assert.DoesNotContain("did not answer", script.Output, StringComparison.Ordinal);
            Assert.DoesNotMatch(RunScript.RunningLine(), script.Output);

            await RunScript.ClickHouseAsync(RunScript.DevStack(state.FullName)["INSIGHTS_CLICKHOUSE_URL"], "DROP TABLE insights.schema_migrations_lock SYNC");
            await script.WaitForLineAsync(RunScript.RunningLine(), RunScript.StartTimeout);
            Assert.Contains("Applied migration 0022_events_by_hour", script.Output, StringComparison.Ordinal);
        }
        finally
        {
            try
            {
                state.Delete(recursive: true);
            }
            catch (IOException)
            {
                // the engines' files of a stopped run, in the temporary folder
            }
        }
    }

    [GeneratedRegex(@"^\[run\] processors: migrating the ClickHouse schema, \d+ s so far")]
    private static partial Regex WaitingLine();

    [GeneratedRegex(@"^\[run\] processors: migrating the ClickHouse schema, ([6-9]\d|\d{3,}) s so far")]
    private static partial Regex WaitedOverAMinuteLine();
}
