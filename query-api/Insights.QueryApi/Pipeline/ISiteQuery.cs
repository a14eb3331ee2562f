using Insights.Contracts;

namespace Insights.QueryApi.Pipeline;

/// <summary>
/// A query about one site, asked with a key. <see cref="TenantAuthorizationBehavior{TMessage,TResponse}"/> checks the
/// key against the site before any handler runs and hands the handler the site it authorized.
/// </summary>
public interface ISiteQuery<out TSelf> where TSelf : ISiteQuery<TSelf>
{
    /// <summary>The site id from the URL, as the caller wrote it (untrusted).</summary>
    string Site { get; }

    PresentedKey Key { get; }

    /// <summary>
    /// The kind of key the query needs. Reports need a read key; a person's data (export, erasure) needs the site's
    /// server key: a read key sits in dashboards and scripts that show numbers, and must not be able to pull out or
    /// destroy what is stored about a person.
    /// </summary>
    static virtual KeyKind RequiredKey => KeyKind.Read;

    /// <summary>The site the key was checked against; null until the authorization behaviour ran.</summary>
    SiteOptions? AuthorizedSite { get; }

    TSelf Authorized(SiteOptions site);
}

/// <summary>
/// A key as presented by a caller, and any key found in the URL (<c>?key=</c>), which is never accepted but must be
/// recognised: a secret key there has leaked into logs and its owner must be told to rotate it. Prints as redacted,
/// so a logged query never leaks either.
/// </summary>
public readonly record struct PresentedKey(string? Value, string? InUrl = null)
{
    public override string ToString() => Value is null ? "(none)" : "(redacted)";
}
