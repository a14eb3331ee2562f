using System.Text.Json;

namespace Insights.Processors.Sessions;

/// <summary>
/// The company a Segment <c>group</c> call says the visitor belongs to: its traits' <c>name</c> (required) and
/// <c>domain</c> or <c>website</c>. The id is <see cref="CompanyIds.Of(string)"/> of the name, so an account the site
/// declares and the same company found behind an office network are one company in the reports.
/// </summary>
public static class DeclaredCompany
{
    // Ingest bounds every value; these keep a declared company within what a network-derived one looks like.
    private const int MaxNameLength = 200;
    private const int MaxDomainLength = 253;

    /// <summary>The declared company, or null when the traits name none.</summary>
    public static (string Id, string Name, string Domain)? Of(JsonElement? traits)
    {
        if (traits is not { ValueKind: JsonValueKind.Object } t
            || !t.TryGetProperty("name"u8, out var nameValue) || nameValue.ValueKind != JsonValueKind.String
            || nameValue.GetString()?.Trim() is not { Length: > 0 and <= MaxNameLength } name)
        {
            return null;
        }

        var domain = Text(t, "domain"u8) ?? Text(t, "website"u8);
        return (CompanyIds.Of(name), name, domain is null ? "" : HostOf(domain));
    }

    private static string? Text(JsonElement traits, ReadOnlySpan<byte> name) =>
        traits.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()?.Trim() is { Length: > 0 } text ? text : null;

    /// <summary>"https://www.acme.example/about" and "acme.example" are both acme.example; anything else is no domain.</summary>
    private static string HostOf(string text)
    {
        var host = Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "https://" + text, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https" && uri.IdnHost.Contains('.', StringComparison.Ordinal)
            ? uri.IdnHost.ToLowerInvariant()
            : "";
        host = host.StartsWith("www.", StringComparison.Ordinal) ? host[4..] : host;
        return host.Length <= MaxDomainLength ? host : "";
    }
}
