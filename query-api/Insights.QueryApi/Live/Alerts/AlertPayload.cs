using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using Insights.Contracts;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>The rule that fired, as receivers see it.</summary>
public sealed record AlertRuleRef(string Id, string Name, string Kind);

/// <summary>
/// An alert: the body of a signed webhook, the data of the stream's <c>alert</c> event, and what a Slack message is
/// made from. <see cref="Id"/> is the same on every instance and every retry: receivers deduplicate on it.
/// </summary>
public sealed record AlertPayload(
    [property: Description("al_… : one per rule and visit, stable across retries and instances (deduplicate on it).")] string Id,
    [property: Description("Always 'alert'.")] string Type,
    string Site,
    DateTimeOffset FiredAt,
    AlertRuleRef Rule,
    [property: Description("Why it fired, for people.")] string Reason,
    [property: Description("The visitor as the live snapshot shows them when the rule fired.")] LiveVisitor Visitor)
{
    public const string EventName = "alert";

    /// <summary><c>al_</c> and 32 hex digits of SHA-256 over (site, rule, session): every instance names the same alert alike.</summary>
    public static string IdOf(string site, string rule, string session) =>
        "al_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{site}\0{rule}\0{session}")))[..32];
}

/// <summary>A fired alert on its way to the store's claim: the payload and the destinations the rule had then.</summary>
public sealed record PendingAlert(AlertPayload Payload, string SessionId, IReadOnlyList<(string Id, string Kind)> Destinations);
