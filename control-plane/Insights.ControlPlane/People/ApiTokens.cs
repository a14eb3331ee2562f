using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.EntityFrameworkCore;

namespace Insights.ControlPlane.People;

/// <summary>A token as its owner sees it after creation: never the token, only its hint.</summary>
public sealed record ApiTokenInfo(Guid Id, string Name, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt)
{
    public static ApiTokenInfo Of(ApiToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return new(token.Id, token.Name, token.Hint, token.CreatedAt, token.ExpiresAt, token.LastUsedAt);
    }
}

/// <summary>Personal API tokens: act as their person (with the person's roles, now, not at creation); shown once, stored as a hash.</summary>
public sealed class ApiTokens(IDbContextFactory<ControlPlaneDb> dbs, TimeProvider time)
{
    public const int MaxPerPerson = 50;

    // Writing the last use on every request would make every read a write; once a minute says enough.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>A new token and what is stored about it, or null when the person already has <see cref="MaxPerPerson"/> tokens.</summary>
    public async Task<(string Token, ApiTokenInfo Info)?> CreateAsync(Guid personId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        if (await db.ApiTokens.CountAsync(t => t.PersonId == personId && t.RevokedAt == null, cancellationToken) >= MaxPerPerson)
        {
            return null;
        }

        var token = Secrets.New(Secrets.ApiTokenPrefix);
        var row = new ApiToken
        {
            Id = Guid.CreateVersion7(now.UtcDateTime),
            PersonId = personId,
            Name = name,
            Hash = Secrets.Hash(token),
            Hint = KeyHint.Of(token),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.ApiTokens.Add(row);
        db.AuditLog.Add(Audit.Entry(Actor.Person(personId), "token.created", ScopeKind.Organisation, "", new { token = row.Id, row.Hint }, now));
        await db.SaveChangesAsync(cancellationToken);
        return (token, ApiTokenInfo.Of(row));
    }

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(Guid personId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var rows = await db.ApiTokens.AsNoTracking().Where(t => t.PersonId == personId && t.RevokedAt == null).ToListAsync(cancellationToken);
        return [.. rows.OrderBy(t => t.CreatedAt).Select(ApiTokenInfo.Of)];
    }

    /// <summary>Revokes one of the person's own tokens; false when they have no such token (another person's is "no such token" too).</summary>
    public async Task<bool> RevokeAsync(Guid personId, Guid tokenId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        if (await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId && t.PersonId == personId && t.RevokedAt == null, cancellationToken) is not { } row)
        {
            return false;
        }

        row.RevokedAt = now;
        db.AuditLog.Add(Audit.Entry(Actor.Person(personId), "token.revoked", ScopeKind.Organisation, "", new { token = row.Id, row.Hint }, now));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>The person and token behind a presented token, or null for an unknown, revoked or expired one.</summary>
    public async Task<(Person Person, ApiToken Token)?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (!Secrets.LooksLike(token, Secrets.ApiTokenPrefix))
        {
            return null;
        }

        var hash = Secrets.Hash(token!);
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var row = await db.ApiTokens.SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (row is null || row.RevokedAt is not null || row.ExpiresAt <= now)
        {
            return null;
        }

        var person = await db.People.AsNoTracking().SingleAsync(p => p.Id == row.PersonId, cancellationToken);
        if (row.LastUsedAt is null || now - row.LastUsedAt > LastUsedResolution)
        {
            row.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return (person, row);
    }
}
