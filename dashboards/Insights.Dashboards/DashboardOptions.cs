using System.ComponentModel.DataAnnotations;

namespace Insights.Dashboards;

/// <summary>The web app's settings (section <c>Dashboards</c>).</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboards";

    /// <summary>Base address of the query API the app reads everything from (it has no database access of its own).</summary>
    [Required, Url]
    public string QueryApiUrl { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// The address websites send events to (ingest, or a first-party proxy in front of it), as the install snippet in the
    /// settings shows it. Only text on a page: a wrong value gives people a snippet that sends nowhere.
    /// </summary>
    [Required, Url]
    public string IngestUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Directory for the ASP.NET Core Data Protection keys that encrypt the app's session cookie (which holds the query
    /// API session). Empty: the default per-user key ring, fine for one instance; several instances need one shared
    /// directory, or each refuses the others' cookies.
    /// </summary>
    public string? KeysDirectory { get; set; }

    /// <summary>Seconds one call to the query API may take before the page shows it as unavailable; longer waits out slow reports, shorter answers sooner.</summary>
    [Range(1, 300)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How long a signed-in person stays signed in without using the app (sliding). The query API's own session
    /// (People:SessionIdleTimeout) ends it sooner when shorter: the app then asks to sign in again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Seconds between reconnection attempts of a live view whose stream dropped; shorter recovers sooner, longer spares a struggling API.</summary>
    [Range(1, 300)]
    public int LiveReconnectSeconds { get; set; } = 3;
}
