using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>Alert evaluation and delivery (section <c>Alerts</c>): signed webhooks and Slack messages from the sites' alert rules.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>Evaluate rules and deliver in this instance. Off: no alert fires here (other instances still deliver theirs).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Allow destinations on loopback, private, link-local and other non-public addresses, and plain http. Off (the
    /// default) keeps a site admin from making the server call into its own network (server-side request forgery);
    /// development and tests turn it on to use receivers on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Attempts before a delivery is dead-lettered. More rides out longer receiver outages; fewer surfaces them sooner.</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait after the first failure; it doubles per attempt (with jitter) up to <see cref="MaxRetryDelay"/>.
    /// With the defaults, 8 attempts span 32 to 64 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one attempt may take, connecting included. Longer tolerates slow receivers, at a worker slot each.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the worker looks for due deliveries (a new alert wakes it at once); shorter retries more punctually, at a query each.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries in flight in this instance, over all sites.</summary>
    [Range(1, 1_000)]
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>Deliveries in flight per site in this instance: one site's slow receivers cannot take every slot.</summary>
    [Range(1, 100)]
    public int PerSiteConcurrency { get; set; } = 4;

    /// <summary>Bytes of a receiver's answer read (kept, shortened, as the delivery's last error); the rest is not read.</summary>
    [Range(0, 64 * 1024)]
    public int MaxResponseBytes { get; set; } = 4 * 1024;

    /// <summary>Largest alert payload: above it the visitor's page list is left out. Bounds every POST and stored row.</summary>
    [Range(2 * 1024, 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 16 * 1024;

    /// <summary>Fired alerts waiting to be claimed in the store; past it new ones are dropped and counted (the store is down or slow).</summary>
    [Range(16, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;
}

/// <summary>Rules across the alert settings; each failure names the keys involved.</summary>
internal sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = AlertOptions.Section;
        return options.MaxRetryDelay < options.RetryDelay
            ? ValidateOptionsResult.Fail(
                $"{s}:MaxRetryDelay ({options.MaxRetryDelay}) must not be less than {s}:RetryDelay ({options.RetryDelay})")
            : ValidateOptionsResult.Success;
    }
}
