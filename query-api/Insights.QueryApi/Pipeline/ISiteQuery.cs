using Insights.Contracts;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;

namespace Insights.QueryApi.Pipeline;

/// <summary>
/// A request about one tenant (a site, an organisation or a partner), asked with a site key or as a signed-in person
/// (session cookie or personal API token). <see cref="TenantAuthorizationBehavior{TMessage,TResponse}"/> checks the
/// caller against <see cref="Target"/> and <see cref="Required"/> before any handler runs, and hands the handler what it
/// authorized (<see cref="Authorized"/>).
/// </summary>
public interface IGuardedRequest<out TSelf> where TSelf : IGuardedRequest<TSelf>
{
    PresentedKey Key { get; }

    /// <summary>The tenant named in the URL, as the caller wrote it (untrusted).</summary>
    Target Target { get; }

    Permission Required { get; }

    TSelf Authorized(Grant grant);
}

/// <summary>A query about one site's data (a report, or a request about a person's data), asked with a key or as a person.</summary>
public interface ISiteQuery<out TSelf> : IGuardedRequest<TSelf> where TSelf : ISiteQuery<TSelf>
{
    /// <summary>The site id from the URL, as the caller wrote it (untrusted).</summary>
    string Site { get; }

    /// <summary>
    /// The kind of key the query needs. Reports need a read key; a person's data (export, erasure) needs the site's
    /// server key: a read key sits in dashboards and scripts that show numbers, and must not be able to pull out or
    /// destroy what is stored about a person. For people the same split is by role: <see cref="Permission.SubjectData"/>.
    /// </summary>
    static virtual KeyKind RequiredKey => KeyKind.Read;

    /// <summary>The site the caller was checked against; null until the authorization behaviour ran.</summary>
    SiteOptions? AuthorizedSite { get; }

    TSelf Authorized(SiteOptions site);

    Target IGuardedRequest<TSelf>.Target => new(ScopeKind.Site, Site);

    Permission IGuardedRequest<TSelf>.Required => TSelf.RequiredKey switch
    {
        KeyKind.Server => Permission.SubjectData,
        KeyKind.Write => Permission.ReceiveInvitations,
        _ => Permission.ReadReports,
    };

    TSelf IGuardedRequest<TSelf>.Authorized(Grant grant) => Authorized(grant.Site!);
}

/// <summary>A tenant as a URL names it: a site id, or an organisation's or partner's id (text until checked).</summary>
public readonly record struct Target(ScopeKind Kind, string Id);

/// <summary>What a request needs, from reading reports up to running a partner's clients.</summary>
public enum Permission
{
    /// <summary>Reports and live visitors: a read key, or viewer and up.</summary>
    ReadReports,

    /// <summary>Export or erase a person's data: the server key, or admin and up.</summary>
    SubjectData,

    /// <summary>Invite a present visitor to chat, dismiss a rule's suggestion: agent and up (people only).</summary>
    InviteVisitors,
    /// <summary>
    /// A visitor's page receiving its invitations to chat: the site's public write key (it is in every page) and nothing
    /// else — no other key, no signed-in person. The key only names the site; the visitor proves itself by its secret.
    /// </summary>
    ReceiveInvitations,

    /// <summary>Site settings and keys: admin and up.</summary>
    ManageSite,

    /// <summary>Invite people, read the audit log: admin and up.</summary>
    ManagePeople,

    /// <summary>Transfer an organisation to or from a partner: the owner only.</summary>
    Transfer,

    /// <summary>List a partner's clients: partner staff (their assigned clients) and partner admins.</summary>
    ListClients,

    /// <summary>Create clients, assign staff: partner admins only.</summary>
    ManageClients,
}

/// <summary>What the authorization behaviour established: who asks (for the audit log), and where.</summary>
public sealed record Grant(Actor Actor, SiteOptions? Site, Guid? OrganisationId, Guid? PartnerId, Guid? PersonId)
{
    public Guid Person => PersonId ?? throw new InvalidOperationException("This grant is a key's, not a person's.");
}

/// <summary>A signed-in person as the HTTP edge found them (session cookie or personal API token).</summary>
public sealed record SignedInPerson(Guid Id, Actor Actor);

/// <summary>
/// A key as presented by a caller, and any key found in the URL (<c>?key=</c>), which is never accepted but must be
/// recognised: a secret key there has leaked into logs and its owner must be told to rotate it. Prints as redacted,
/// so a logged query never leaks either. <see cref="Person"/> is the signed-in person, when the request carries a
/// session or a personal token instead of a key.
/// </summary>
public readonly record struct PresentedKey(string? Value, string? InUrl = null, SignedInPerson? Person = null)
{
    /// <summary>What an audit record names the caller by: the key (hashed by the audit), or the person.</summary>
    public string AuditValue => Value ?? $"person:{Person?.Id:D}";

    public override string ToString() => Value is null ? Person is null ? "(none)" : "(person)" : "(redacted)";
}
