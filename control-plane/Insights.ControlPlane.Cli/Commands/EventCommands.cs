using System.ComponentModel;
using System.Globalization;
using Insights.Contracts;
using Insights.ControlPlane.Cli.Events;
using Insights.ControlPlane.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli.Commands;

/// <summary>What both event commands show and where: progress on stderr (a bar on a terminal), the result on stdout.</summary>
public abstract class EventCommandSettings : CommandSettings
{
    [CommandOption("--no-progress")]
    [Description("No progress output (by default a bar on a terminal, a line every --progress-every otherwise).")]
    public bool NoProgress { get; init; }

    [CommandOption("--progress-every <DURATION>")]
    [Description("When not on a terminal: a progress line this often (10s, 1m). Default 10s.")]
    public string ProgressEvery { get; init; } = "10s";

    [CommandOption("--dry-run")]
    [Description("Read and check everything, count what would be sent, send nothing.")]
    public bool DryRun { get; init; }

    [CommandOption("--rate <EVENTS-PER-SECOND>")]
    [Description("Send at most this many events per second (0 = as fast as the pipeline takes them).")]
    public double Rate { get; init; }

    public override ValidationResult Validate() =>
        KeySettingsDuration(ProgressEvery) is null ? ValidationResult.Error("--progress-every must be a duration such as 10s or 1m")
        : Rate < 0 || double.IsNaN(Rate) || double.IsInfinity(Rate) ? ValidationResult.Error("--rate must be a number of events per second, 0 or more")
        : ValidationResult.Success();

    internal ProgressMeter Progress(string what, long total, TimeProvider time) => new(Console.Error,
        NoProgress ? ProgressMode.None : Console.IsErrorRedirected ? ProgressMode.Lines : ProgressMode.Terminal,
        what, total, time, KeySettingsDuration(ProgressEvery) ?? TimeSpan.FromSeconds(10));

    internal static TimeSpan? KeySettingsDuration(string value) => RotateKeySettings.ParseDuration(value);
}

public sealed class ImportEventsSettings : EventCommandSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("NDJSON, one event per line: the /v1/events (Segment-style) shape; '-' reads stdin.")]
    public string File { get; init; } = "";

    [CommandOption("--site <SITE-ID>")]
    [Description("The site to import into; the key must be its server key.")]
    public string? Site { get; init; }

    [CommandOption("--key <SERVER-KEY>")]
    [Description("The site's server key (or the INSIGHTS_SERVER_KEY environment variable, which stays out of the process list).")]
    public string? Key { get; init; }

    [CommandOption("--ingest <URL>")]
    [Description("Ingest's address. Default: INSIGHTS_INGEST_URL, else http://127.0.0.1:8080.")]
    public string? Ingest { get; init; }

    [CommandOption("--strict")]
    [Description("Stop at the first refused line (after importing the lines before it) instead of reporting and skipping it.")]
    public bool Strict { get; init; }

    [CommandOption("--from-line <N>")]
    [Description("Start at this line (1-based), e.g. where an earlier run stopped.")]
    public long FromLine { get; init; } = 1;

    [CommandOption("--checkpoint <FILE>")]
    [Description("Resume from this file if it exists, and record progress in it after every acknowledged batch.")]
    public string? Checkpoint { get; init; }

    [CommandOption("--batch <N>")]
    [Description("Events per request (1 to 500, ingest's Ingest:MaxEventsPerRequest). Default 500.")]
    public int Batch { get; init; } = 500;

    [CommandOption("--max-line-bytes <N>")]
    [Description("Longer lines are refused (ingest's Ingest:MaxEventBytes). Default 32768.")]
    public int MaxLineBytes { get; init; } = 32 * 1024;

    [CommandOption("--max-past-age <DURATION>")]
    [Description("Ingest's Ingest:MaxPastAge (default 7d): older events are refused here, since ingest would date them now.")]
    public string MaxPastAge { get; init; } = "7d";

    [CommandOption("--max-reported <N>")]
    [Description("Refused lines listed one by one; the rest are counted. Default 100.")]
    public int MaxReported { get; init; } = 100;

    [CommandOption("--retry-for <DURATION>")]
    [Description("How long a batch is retried while ingest is unreachable, rate-limits or Kafka is down. Default 5m.")]
    public string RetryFor { get; init; } = "5m";

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        return !common.Successful ? common
            : string.IsNullOrWhiteSpace(File) ? ValidationResult.Error("events import needs <FILE>")
            : string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("events import needs --site <SITE-ID>")
            : Batch is < 1 or > 500 ? ValidationResult.Error("--batch must be 1 to 500")
            : MaxLineBytes is < 64 or > 1024 * 1024 ? ValidationResult.Error("--max-line-bytes must be 64 to 1048576")
            : FromLine < 1 ? ValidationResult.Error("--from-line must be 1 or more")
            : FromLine > 1 && Checkpoint is not null ? ValidationResult.Error("--from-line and --checkpoint both say where to start; pass one")
            : File == "-" && Checkpoint is not null ? ValidationResult.Error("--checkpoint needs a file to resume in; stdin cannot be resumed")
            : MaxReported < 0 ? ValidationResult.Error("--max-reported must be 0 or more")
            : KeySettingsDuration(MaxPastAge) is null ? ValidationResult.Error("--max-past-age must be a duration such as 7d or 31d")
            : KeySettingsDuration(RetryFor) is null ? ValidationResult.Error("--retry-for must be a duration such as 30s or 5m")
            : ValidationResult.Success();
    }
}

/// <summary>
/// <c>insights-admin events import</c>: an NDJSON export into a site, through ingest's one admission path with the
/// site's server key (<see cref="EventImport"/>). The store is asked first, so a wrong site or key is named before any
/// line is read.
/// </summary>
public sealed class ImportEventsCommand(AdminStore store, TimeProvider time, IAnsiConsole console) : AsyncCommand<ImportEventsSettings>
{
    public const string KeyVariable = "INSIGHTS_SERVER_KEY";

    public override async Task<int> ExecuteAsync(CommandContext context, ImportEventsSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var site = settings.Site!.Trim();
        var key = settings.Key ?? Environment.GetEnvironmentVariable(KeyVariable);
        if (!settings.DryRun && string.IsNullOrEmpty(key))
        {
            throw new AdminException($"events import needs the site's server key: --key <SERVER-KEY> or {KeyVariable}", ExitCodes.Usage);
        }

        await CheckSiteAndKeyAsync(site, settings.DryRun ? null : key, cancellationToken);
        var ingest = IngestAddress(settings.Ingest);
        using var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(60) };
        var sender = settings.DryRun ? null : new IngestSender(http, key!, EventCommandSettings.KeySettingsDuration(settings.RetryFor)!.Value, time);

        await using var file = Open(settings.File);
        var progress = settings.Progress("import", file.CanSeek ? file.Length : 0, time);
        var plan = new ImportPlan
        {
            File = settings.File,
            Preparer = new ImportLinePreparer(site, time.GetUtcNow(), EventCommandSettings.KeySettingsDuration(settings.MaxPastAge)!.Value, TimeSpan.FromHours(1)),
            BatchEvents = settings.Batch,
            MaxLineBytes = settings.MaxLineBytes,
            Strict = settings.Strict,
            FromLine = settings.FromLine,
            CheckpointPath = settings.Checkpoint,
            Rate = settings.Rate,
            MaxReported = settings.MaxReported,
        };
        var summary = await new EventImport(sender, progress, time).RunAsync(file, plan, cancellationToken);
        console.WriteLine(EventImport.Describe(summary, site, settings.DryRun));
        return summary.Stopped ? ExitCodes.Failed : summary.Problems > 0 ? ExitCodes.Skipped : ExitCodes.Ok;
    }

    public static Uri IngestAddress(string? option)
    {
        var value = option ?? Environment.GetEnvironmentVariable("INSIGHTS_INGEST_URL") ?? "http://127.0.0.1:8080";
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new AdminException($"--ingest must be an http(s) address such as http://127.0.0.1:8080, not '{value}'", ExitCodes.Usage);
    }

    private static Stream Open(string path)
    {
        if (path == "-")
        {
            return Console.OpenStandardInput();
        }

        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new AdminException($"cannot read {path}: {error.Message}");
        }
    }

    /// <summary>
    /// The site must exist and the key must be one of its working server keys: the store says which site a key is of,
    /// so a key of another site, a write key or a revoked key is named now, not as ingest's 401 per batch.
    /// </summary>
    private async Task CheckSiteAndKeyAsync(string site, string? key, CancellationToken cancellationToken)
    {
        await store.RequireCurrentAsync(cancellationToken);
        await using var db = await store.Databases.CreateDbContextAsync(cancellationToken);
        if (!await db.Sites.AnyAsync(s => s.Id == site, cancellationToken))
        {
            throw new AdminException($"no site with id '{site}'; list them with insights-admin sites list");
        }

        if (key is null)
        {
            return;
        }

        var hash = SiteCatalog.HashKey(key);
        var found = await db.SiteKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, cancellationToken);
        var refusal = found is null ? "the key is not a key of any site"
            : !found.WorksAt(time.GetUtcNow()) ? $"the key ({found.Hint}) no longer works (revoked or past its grace period)"
            : found.SiteId != site ? $"the key is a key of site '{found.SiteId}', not of '{site}'"
            : found.Kind != SiteKeyKind.Server ? $"the key is the site's {KeyNames.Of(found.Kind)} key; an import needs its server key (historic events, visitors' addresses, orders and chats are the server's to send)"
            : null;
        if (refusal is not null)
        {
            throw new AdminException($"{refusal}: pass a working server key of site {site} (insights-admin keys list --site {site}; keys rotate <key-id> issues a new one)");
        }
    }
}

public sealed class ReplayEventsSettings : EventCommandSettings
{
    [CommandOption("--from <TIME>")]
    [Description("Start of the range: ISO 8601 (2026-12-01T00:00Z) or a duration ago (6h, 2d). By the time ingest produced each event.")]
    public string? From { get; init; }

    [CommandOption("--to <TIME>")]
    [Description("End of the range (exclusive): ISO 8601 or a duration ago. Default: now.")]
    public string? To { get; init; }

    [CommandOption("--site <SITE-ID>")]
    [Description("Only this site's events. Default: every site.")]
    public string? Site { get; init; }

    [CommandOption("--topic <TOPIC>")]
    [Description("The raw topic (Processors:Topic). Default insights.events.")]
    public string Topic { get; init; } = Topics.Events;

    [CommandOption("--bootstrap <SERVERS>")]
    [Description("Kafka's bootstrap servers. Default: Kafka:BootstrapServers, else INSIGHTS_KAFKA_BOOTSTRAP, else 127.0.0.1:9092.")]
    public string? Bootstrap { get; init; }

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        return !common.Successful ? common
            : From is null ? ValidationResult.Error("events replay needs --from <TIME>")
            : ParseTime(From, DateTimeOffset.UnixEpoch) is null ? ValidationResult.Error("--from must be ISO 8601 (2026-12-01T00:00Z) or a duration ago (6h, 2d)")
            : To is not null && ParseTime(To, DateTimeOffset.UnixEpoch) is null ? ValidationResult.Error("--to must be ISO 8601 or a duration ago")
            : string.IsNullOrWhiteSpace(Topic) ? ValidationResult.Error("--topic must name a topic")
            : ValidationResult.Success();
    }

    /// <summary>ISO 8601 (UTC unless it says otherwise), or a duration before <paramref name="now"/>.</summary>
    public static DateTimeOffset? ParseTime(string value, DateTimeOffset now) =>
        KeySettingsDuration(value) is { } ago ? now - ago
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
        : null;
}

/// <summary>
/// <c>insights-admin events replay</c>: a time range of the raw topic through the processors again, e.g. after an
/// enrichment fix or a new company database (<see cref="TopicReplay"/>: same events, same ids, rows replaced).
/// </summary>
public sealed class ReplayEventsCommand(IConfiguration configuration, TimeProvider time, IAnsiConsole console) : AsyncCommand<ReplayEventsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReplayEventsSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var now = time.GetUtcNow();
        var from = ReplayEventsSettings.ParseTime(settings.From!, now)!.Value;
        var to = settings.To is null ? now : ReplayEventsSettings.ParseTime(settings.To, now)!.Value;
        if (to <= from)
        {
            throw new AdminException($"--to ({to.UtcDateTime:O}) must be after --from ({from.UtcDateTime:O})", ExitCodes.Usage);
        }

        var bootstrap = settings.Bootstrap ?? configuration["Kafka:BootstrapServers"] ?? Environment.GetEnvironmentVariable("INSIGHTS_KAFKA_BOOTSTRAP") ?? "127.0.0.1:9092";
        var plan = new ReplayPlan
        {
            BootstrapServers = bootstrap, Topic = settings.Topic, From = from, To = to, Site = settings.Site?.Trim(), DryRun = settings.DryRun, Rate = settings.Rate,
        };
        var progress = settings.Progress("replay", 0, time);
        var summary = await new TopicReplay(progress, time).RunAsync(plan, cancellationToken);

        var table = Output.Table("Site", "Type", settings.DryRun ? "Would replay" : "Replayed");
        foreach (var ((site, type), count) in summary.ByKind.OrderBy(k => k.Key.Site, StringComparer.Ordinal).ThenBy(k => k.Key.Type, StringComparer.Ordinal))
        {
            table.Row(site, type, count.ToString("N0", CultureInfo.InvariantCulture));
        }

        var range = $"{from.UtcDateTime:yyyy-MM-dd HH:mm:ss} to {to.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC";
        console.Show(table, $"No events of {(plan.Site is null ? "any site" : $"site {plan.Site}")} in {plan.Topic} from {range}.");
        console.WriteLine(settings.DryRun
            ? $"dry run: {summary.Replayed.ToString("N0", CultureInfo.InvariantCulture)} events would be replayed ({summary.Scanned.ToString("N0", CultureInfo.InvariantCulture)} messages read, {range})"
            : $"replayed {summary.Replayed.ToString("N0", CultureInfo.InvariantCulture)} events into {plan.Topic} ({summary.Scanned.ToString("N0", CultureInfo.InvariantCulture)} messages read, {range}, " +
              $"{summary.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s); the processors rewrite them as they consume, replacing the stored rows");
        return ExitCodes.Ok;
    }
}
