using System.Buffers.Text;
using System.Security.Cryptography;
using Insights.Contracts;

namespace Insights.ControlPlane.People;

/// <summary>
/// Secrets handed out once (site keys, sign-in links, invitations, personal API tokens): a prefix that says what it is,
/// then 32 random bytes, base64url. Only <see cref="SiteCatalog.HashKey"/> of a token is stored, the one hash of the control plane.
/// </summary>
public static class Secrets
{
    /// <summary>Personal API tokens start so: the query API tells them from site keys (<c>ik_</c>) by it.</summary>
    public const string ApiTokenPrefix = "ipt_";

    public const string SignInLinkPrefix = "isl_";

    public const string InvitationPrefix = "iin_";

    /// <summary>Longest token we ever hash: a longer presented value is no token of ours, refused before hashing.</summary>
    public const int MaxLength = 100;

    public static string New(string prefix) => prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => SiteCatalog.HashKey(token);

    /// <summary>Whether a presented value could be a token of this kind (prefix, length, URL-safe characters).</summary>
    public static bool LooksLike(string? value, string prefix) =>
        value is { Length: > 4 and <= MaxLength } && value.StartsWith(prefix, StringComparison.Ordinal) &&
        value.AsSpan(prefix.Length).IndexOfAnyExcept(UrlSafe) < 0;

    private static readonly System.Buffers.SearchValues<char> UrlSafe =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

/// <summary>E-mail addresses as people type them, and as they are compared.</summary>
public static class Emails
{
    public const int MaxLength = 320;

    /// <summary>
    /// The address trimmed and lower-cased (invariant), or null when it is no plausible address: one <c>@</c> with
    /// something on both sides, no spaces or control characters, at most 320 characters. Non-ASCII is allowed
    /// (internationalised addresses); the mail server is the final judge.
    /// </summary>
    public static string? Normalize(string? email)
    {
        var trimmed = email?.Trim();
        if (trimmed is not { Length: >= 3 and <= MaxLength })
        {
            return null;
        }

        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at == trimmed.Length - 1 || trimmed.IndexOf('@', at + 1) >= 0 || trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return null;
        }

        return trimmed.ToLowerInvariant();
    }
}
