using System.ComponentModel.DataAnnotations;

namespace Insights.Ingest;

/// <summary>Limits and stamping rules of <c>POST /v1/events</c> (section <c>Ingest</c>).</summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Raw JSON bytes per event (Segment's 32 KB): larger admits bigger property bags, and bigger Kafka messages and rows.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxEventBytes { get; set; } = 32 * 1024;

    /// <summary>Bytes per request, enforced while reading (Segment's 500 KB): bounds memory per request, so concurrency × this is the worst case.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 500 * 1024;

    /// <summary>Events per request (Segment's 500): more means fewer requests, but a longer wait for Kafka per request and bigger retries.</summary>
    [Range(1, 10_000)]
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>JSON nesting depth: real properties nest a few levels; the cap bounds parser work on hostile input.</summary>
    [Range(4, 256)]
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>Characters in messageId, anonymousId, userId and event names: longer ids only waste Kafka keys and sort keys.</summary>
    [Range(16, 4096)]
    public int MaxIdentifierLength { get; set; } = 256;

    /// <summary>Client timestamps further ahead are replaced by received_at: larger tolerates worse clocks, but lets them put events in the future.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Client timestamps older than this are replaced by received_at: larger keeps offline queues' times, but lets late data into closed report periods.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan MaxPastAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Proxies (addresses or CIDR ranges) whose <c>X-Forwarded-For</c> is believed. Empty by default: anyone can send the
    /// header, so trusting it by default would let every visitor choose its own IP (and company).
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Retry-After on 503 when Kafka did not acknowledge: shorter recovers sooner, longer spares a recovering broker a thundering herd.</summary>
    [Range(1, 3600)]
    public int UnavailableRetryAfterSeconds { get; set; } = 5;

    /// <summary>How long browsers may cache the CORS preflight: longer saves an OPTIONS round trip per page, but delays a CORS change reaching them.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CorsPreflightMaxAge { get; set; } = TimeSpan.FromHours(2);
}

/// <summary>Rules that span settings, reported under their configuration keys.</summary>
internal sealed class IngestOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<IngestOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBytes < options.MaxEventBytes)
        {
            failures.Add($"{IngestOptions.Section}:MaxRequestBytes ({options.MaxRequestBytes}) must be at least {IngestOptions.Section}:MaxEventBytes ({options.MaxEventBytes})");
        }

        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!Network.ClientIpResolver.TryParseNetwork(options.TrustedProxies[i], out _))
            {
                failures.Add($"{IngestOptions.Section}:TrustedProxies:{i} must be an IP address or a CIDR range, got \"{options.TrustedProxies[i]}\"");
            }
        }

        return failures.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
