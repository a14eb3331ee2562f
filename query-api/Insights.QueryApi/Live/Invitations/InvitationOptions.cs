using System.ComponentModel.DataAnnotations;
using Insights.Contracts;

namespace Insights.QueryApi.Live.Invitations;

/// <summary>
/// Invitations (section <c>Invitations</c>): where invitations sent by rules and agents are recorded. They go to the
/// events topic as server-side track events, so they are stored, counted in the funnel and seen by every instance.
/// </summary>
public sealed class InvitationOptions
{
    public const string Section = "Invitations";

    /// <summary>Kafka host:port list; empty uses <c>Kafka:BootstrapServers</c>, the cluster the rest of the system uses.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The topic invitation events are produced to: the pipeline's events topic, so the processors store and publish them like any event.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "must be a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)")]
    public string EventsTopic { get; set; } = Topics.Events;

    /// <summary>Rule invitations waiting to be recorded; past it new ones are delivered but not recorded (counted in the log).
    /// More rides out a longer Kafka outage at ~1 KB each.</summary>
    [Range(16, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>How long an agent's invite waits for Kafka to acknowledge before answering 503; longer rides out a
    /// broker fail-over, shorter answers the agent sooner.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
