using System.Globalization;
using ClickHouse.Driver;
using Microsoft.Extensions.Logging;

namespace Insights.Storage;

/// <summary>
/// One migrator at a time across processes. ClickHouse has no row lock to take, but creating a table is atomic: of two
/// <c>CREATE TABLE schema_migrations_lock</c> (no IF NOT EXISTS) exactly one succeeds, and the holder drops the table
/// when it is done. On a cluster the statement runs <c>ON CLUSTER</c>, whose DDL queue orders the two the same on
/// every node. The holder writes the time into the table's comment every few seconds; a lock whose time is older than
/// <see cref="StaleAfter"/> belonged to a process that died mid-migration, and is broken. (Two waiters breaking the
/// same stale lock at the same moment could both go on; the guarded migrations then still end consistent or stop.)
/// </summary>
public sealed partial class MigrationLock : IAsyncDisposable
{
    public const string Table = "schema_migrations_lock";
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan WaitLogEvery = TimeSpan.FromSeconds(15);

    private readonly ClickHouseClient client;
    private readonly ClickHouseStorageOptions options;
    private readonly string holder;
    private readonly CancellationTokenSource stop = new();
    private readonly Task heartbeat;

    private MigrationLock(ClickHouseClient client, ClickHouseStorageOptions options, string holder)
    {
        this.client = client;
        this.options = options;
        this.holder = holder;
        heartbeat = BeatAsync(stop.Token);
    }

    /// <summary>Waits for the lock of the database <paramref name="connectionString"/> names; its own connection beats.</summary>
    public static async Task<MigrationLock> AcquireAsync(string connectionString, ClickHouseStorageOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var client = new ClickHouseClient(connectionString);
        try
        {
            return await AcquireAsync(client, options, logger, cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task<MigrationLock> AcquireAsync(ClickHouseClient client, ClickHouseStorageOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}".Replace("'", "", StringComparison.Ordinal);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var logged = TimeSpan.Zero;
        while (true)
        {
            try
            {
                await client.ExecuteNonQueryAsync(
                    $"CREATE TABLE {Table} {MigrationRenderer.OnCluster(options)} (holder String) ENGINE = Memory COMMENT '{Comment(holder)}'",
                    cancellationToken: cancellationToken);
                return new MigrationLock(client, options, holder);
            }
            catch (ClickHouseServerException e) when (e.ErrorCode == 57 || e.Message.Contains("TABLE_ALREADY_EXISTS", StringComparison.Ordinal))
            {
                // held by another migrator
            }

            var comment = await client.ExecuteScalarAsync(
                $"SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = '{Table}'", cancellationToken: cancellationToken) as string;
            if (comment is not null && BeatOf(comment) is { } beat && DateTimeOffset.UtcNow - beat > StaleAfter)
            {
                LogBroken(logger, comment, options.Database);
                await client.ExecuteNonQueryAsync($"DROP TABLE IF EXISTS {Table} {MigrationRenderer.OnCluster(options)} SYNC", cancellationToken: cancellationToken);
                continue;
            }

            if (waited.Elapsed - logged >= WaitLogEvery)
            {
                logged = waited.Elapsed;
                LogWaiting(logger, comment ?? "?", options.Database, (long)waited.Elapsed.TotalSeconds);
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await heartbeat;
        stop.Dispose();
        try
        {
            await client.ExecuteNonQueryAsync($"DROP TABLE IF EXISTS {Table} {MigrationRenderer.OnCluster(options)} SYNC");
        }
        catch (Exception e) when (e is ClickHouseServerException or HttpRequestException or TaskCanceledException)
        {
            // ClickHouse is unreachable: the migration's own error (if any) is the one to report, and a lock left
            // behind no longer beats, so the next migrator breaks it after StaleAfter.
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary><c>holder|unix milliseconds</c> of the holder's last beat.</summary>
    internal static DateTimeOffset? BeatOf(string comment)
    {
        var bar = comment.LastIndexOf('|');
        return bar > 0 && long.TryParse(comment.AsSpan(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }

    private static string Comment(string holder) =>
        $"{holder}|{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Heartbeat, cancellationToken);
                await client.ExecuteNonQueryAsync($"ALTER TABLE {Table} {MigrationRenderer.OnCluster(options)} MODIFY COMMENT '{Comment(holder)}'",
                    cancellationToken: cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // a missed beat: the next one, or the migration's own failure, decides
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Waiting {Seconds} s for another process to finish migrating {Database} (lock {Holder})")]
    private static partial void LogWaiting(ILogger logger, string holder, string database, long seconds);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Broke the schema migration lock of {Database} held by {Holder}: it has not been renewed for a minute (its process stopped mid-migration); migrating from where it stopped")]
    private static partial void LogBroken(ILogger logger, string holder, string database);
}
