using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Insights.Contracts;

namespace Insights.QueryApi.Subjects;

/// <summary>
/// Whom a subject request is about, as the caller names them in the JSON body: exactly one of a visitor's anonymous id,
/// the site's user id, or an e-mail address. In the body, not the URL: ids and addresses in a URL end up in proxy and
/// access logs, the very copies an erasure cannot reach.
/// </summary>
public sealed record SubjectBody(
    [property: Description("The visitor's anonymous id (the tracker's visitor id), 1-256 characters.")] string? AnonymousId,
    [property: Description("The site's own id for the person (as sent with identify), 1-256 characters.")] string? UserId,
    [property: Description("The person's e-mail address; only its hash is ever stored or compared.")] string? Email);

/// <summary>
/// A validated subject: the node of the identity graph it starts from (<c>a:</c> anonymous id, <c>u:</c> user id,
/// <c>e:</c> e-mail hash, as the attribution processor names nodes) and the kind the caller used.
/// </summary>
public sealed record Subject(string Kind, string Node)
{
    /// <summary>Ingest takes ids up to 256 characters, the identity graph the same; longer was never stored.</summary>
    public const int MaxIdLength = 256;

    /// <summary>The body of a subject request is a few ids; anything bigger is not one.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        // A misspelt field ("anonymousID" is fine, "visitorId" is not) must not be read as "no subject".
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 4,
    };

    /// <summary>
    /// The SHA-256 (lower-case hex) of <see cref="Node"/>: what the audit record keeps instead of the id. An operator
    /// proves a request was carried out by hashing the same node (<c>printf 'u:alice' | sha256sum</c>).
    /// </summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Node)));

    /// <summary>The subject of a request body, or the errors per field (for a 400 naming them).</summary>
    public static Subject? Parse(ReadOnlySpan<byte> body, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        SubjectBody? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<SubjectBody>(body, Json);
        }
        catch (JsonException error)
        {
            errors["body"] = [$"The body must be a JSON object with one of 'anonymousId', 'userId', 'email' ({error.Message.Split('.')[0]})."];
            return null;
        }

        if (parsed is null)
        {
            errors["body"] = ["The body must be a JSON object with one of 'anonymousId', 'userId', 'email'."];
            return null;
        }

        var given = (parsed.AnonymousId is null ? 0 : 1) + (parsed.UserId is null ? 0 : 1) + (parsed.Email is null ? 0 : 1);
        if (given != 1)
        {
            errors["body"] = [$"Name exactly one of 'anonymousId', 'userId', 'email' (got {given})."];
            return null;
        }

        if (parsed.AnonymousId is { } anonymous)
        {
            return IsId(anonymous) ? new Subject("anonymousId", "a:" + anonymous) : Invalid(errors, "anonymousId");
        }

        if (parsed.UserId is { } user)
        {
            return IsId(user) ? new Subject("userId", "u:" + user) : Invalid(errors, "userId");
        }

        if (EmailHash.Of(parsed.Email) is { } hash)
        {
            return new Subject("email", "e:" + hash);
        }

        errors["email"] = ["'email' must be an e-mail address: one '@' with text on both sides, no spaces, at most 254 characters."];
        return null;
    }

    /// <summary>The rule ingest and the identity graph apply to an id: present, not too long, no control characters.</summary>
    private static bool IsId(string id) => id.Length is > 0 and <= MaxIdLength && !id.Any(char.IsControl);

    private static Subject? Invalid(Dictionary<string, string[]> errors, string field)
    {
        errors[field] = [$"'{field}' must be 1 to {MaxIdLength} characters of text (no control characters)."];
        return null;
    }
}
