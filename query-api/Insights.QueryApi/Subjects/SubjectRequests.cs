using System.ComponentModel;
using Insights.Contracts;
using Insights.QueryApi.Pipeline;
using Mediator;

namespace Insights.QueryApi.Subjects;

/// <summary>Export everything stored about a person, asked with the site's server key. A query in the mediator's sense
/// (it goes through the same pipeline: metrics, then the key check), although it writes an audit record.</summary>
public sealed record SubjectExportQuery(string Site, PresentedKey Key, ReadOnlyMemory<byte> Body, bool BodyTooLarge)
    : IQuery<QueryOutcome<SubjectExport>>, ISiteQuery<SubjectExportQuery>
{
    public static KeyKind RequiredKey => KeyKind.Server;

    public SiteOptions? AuthorizedSite { get; private init; }

    public SubjectExportQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>Delete everything stored about a person, asked with the site's server key.</summary>
public sealed record SubjectEraseQuery(string Site, PresentedKey Key, ReadOnlyMemory<byte> Body, bool BodyTooLarge)
    : IQuery<QueryOutcome<SubjectErasure>>, ISiteQuery<SubjectEraseQuery>
{
    public static KeyKind RequiredKey => KeyKind.Server;

    public SiteOptions? AuthorizedSite { get; private init; }

    public SubjectEraseQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };
}

/// <summary>The ids a request covered: the one asked for and every id linked to it by what the person stated.</summary>
public sealed record CoveredIds(
    [property: Description("Visitor (anonymous) ids: the person's browsers and devices.")] IReadOnlyList<string> AnonymousIds,
    [property: Description("The site's user ids.")] IReadOnlyList<string> UserIds,
    [property: Description("E-mail hashes (SHA-256 of the trimmed, lower-cased address).")] IReadOnlyList<string> EmailHashes,
    [property: Description("Chat ids.")] IReadOnlyList<string> Chats,
    [property: Description("Order ids.")] IReadOnlyList<string> Orders)
{
    public static CoveredIds Of(SubjectIds ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return new(ids.Of('a'), ids.Of('u'), ids.Of('e'), ids.Of('c'), ids.Of('o'));
    }
}

/// <summary>What an erasure deleted.</summary>
public sealed record SubjectErasure(
    [property: Description("The site id.")] string Site,
    [property: Description("The audit record's id (table subject_requests).")] Guid RequestId,
    [property: Description("How the subject was named: anonymousId, userId or email.")] string SubjectKind,
    [property: Description("SHA-256 (hex) of the subject's graph node (a:<id>, u:<id>, e:<e-mail hash>), as the audit record keeps it.")] string SubjectHash,
    [property: Description("Every id erased.")] CoveredIds Ids,
    [property: Description("Ids linked to the subject only by a guess (same IP and user agent), or a user id or e-mail linked to a visitor id only by the public write key's claim, and therefore left alone: they may be someone else.")] int WeakLinksNotFollowed,
    [property: Description("Rows deleted per table (each row once, however many unmerged copies were stored); all tables, zeros included.")] IReadOnlyDictionary<string, long> Deleted,
    [property: Description("The rows are gone from every query when this answers (synchronous lightweight delete); the disk space is freed at the tables' next merges.")] DateTimeOffset ErasedAt);

/// <summary>A subject's export, resolved and audited; its rows stream when the response is written.</summary>
public sealed class SubjectExport(string site, Guid requestId, Subject subject, SubjectIds ids, IAsyncEnumerable<(string Table, string Json)> rows)
{
    public string Site { get; } = site;

    public Guid RequestId { get; } = requestId;

    public Subject Subject { get; } = subject;

    public SubjectIds Ids { get; } = ids;

    public IAsyncEnumerable<(string Table, string Json)> Rows { get; } = rows;
}

public sealed class SubjectExportHandler(SubjectStore store, ILogger<SubjectExportHandler> logger) : IQueryHandler<SubjectExportQuery, QueryOutcome<SubjectExport>>
{
    public async ValueTask<QueryOutcome<SubjectExport>> Handle(SubjectExportQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("SubjectExportQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");
        var resolution = await SubjectResolution.ResolveAsync(store, site, query.Body, query.BodyTooLarge, cancellationToken);
        if (resolution is not { Subject: { } subject, Ids: { } ids })
        {
            return resolution.Problem!;
        }

        // Audited before the first row leaves: a download cut short still happened. Rows are counted by the stream's last line.
        var requestId = await store.AuditAsync(site, "export", subject, query.Key.AuditValue, ids, new Dictionary<string, long>(), cancellationToken);
        logger.SubjectExportStarted(requestId, site.Id, subject.Hash, ids.Nodes.Count);
        return new SubjectExport(site.Id, requestId, subject, ids, store.ExportAsync(site, ids, CancellationToken.None));
    }
}

public sealed class SubjectEraseHandler(SubjectStore store, TimeProvider time, ILogger<SubjectEraseHandler> logger) : IQueryHandler<SubjectEraseQuery, QueryOutcome<SubjectErasure>>
{
    public async ValueTask<QueryOutcome<SubjectErasure>> Handle(SubjectEraseQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite
            ?? throw new InvalidOperationException("SubjectEraseQuery reached its handler unauthorized; TenantAuthorizationBehavior must run first.");
        var resolution = await SubjectResolution.ResolveAsync(store, site, query.Body, query.BodyTooLarge, cancellationToken);
        if (resolution is not { Subject: { } subject, Ids: { } ids })
        {
            return resolution.Problem!;
        }

        // The caller leaving must not stop an erasure half way: the deletes run to the end (each is bounded by its own
        // time limit), so what the audit record says is what happened.
        var deleted = await store.EraseAsync(site, ids, CancellationToken.None);
        var requestId = await store.AuditAsync(site, "erase", subject, query.Key.AuditValue, ids, deleted, CancellationToken.None);
        logger.SubjectRequestDone(requestId, "erase", site.Id, subject.Hash, ids.Nodes.Count, deleted.Values.Sum());
        return new SubjectErasure(site.Id, requestId, subject.Kind, subject.Hash, CoveredIds.Of(ids), ids.WeakLinksNotFollowed, deleted,
            time.GetUtcNow());
    }
}

/// <summary>A subject and its ids, or why there are none.</summary>
internal sealed record SubjectResolution(Subject? Subject, SubjectIds? Ids, QueryProblem? Problem)
{
    /// <summary>The steps both requests share: the body within bounds, one valid subject, its ids within bounds.</summary>
    public static async Task<SubjectResolution> ResolveAsync(
        SubjectStore store, SiteOptions site, ReadOnlyMemory<byte> body, bool tooLarge, CancellationToken cancellationToken)
    {
        if (tooLarge)
        {
            return new(null, null, new QueryProblem(StatusCodes.Status413PayloadTooLarge, "body_too_large", "The body is too large",
                $"A subject request's body is one id in a JSON object, at most {Subject.MaxBodyBytes} bytes."));
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Subject.Parse(body.Span, errors) is not { } subject)
        {
            return new(null, null, QueryProblem.Invalid(errors));
        }

        if (await store.ResolveAsync(site, subject, cancellationToken) is not { } ids)
        {
            return new(subject, null, new QueryProblem(StatusCodes.Status422UnprocessableEntity, "subject_too_large", "The subject links to too many ids",
                "The ids linked to this subject pass the configured bound (Subjects:MaxSubjectIdBytes / MaxLinkRounds): a shared id such as a " +
                "test e-mail address joins many people. Ask by a narrower id (anonymousId) or raise the bound."));
        }

        return new(subject, ids, null);
    }
}
