namespace Insights.ControlPlane;

/// <summary>
/// Who makes a change, as the audit log records it. <see cref="Kind"/> is <c>person</c>, <c>token</c>, <c>key</c>,
/// <c>cli</c> or <c>system</c>; <see cref="Id"/> names the person, token hint, key hint or CLI user, never a secret.
/// </summary>
public sealed record Actor(string Kind, string Id)
{
    /// <summary>The service itself (seeding from configuration).</summary>
    public static Actor System { get; } = new("system", "insights");

    public static Actor Person(Guid personId) => new("person", personId.ToString("D"));

    public static Actor Cli(string user) => new("cli", user);
}
