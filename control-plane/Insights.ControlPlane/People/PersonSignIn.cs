using Insights.ControlPlane.Model;
using Insights.ControlPlane.Store;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane.People;

public enum SignInOutcome
{
    SignedIn,

    /// <summary>Unknown address, no password set, or a wrong password: one answer for all, so an address cannot be probed.</summary>
    WrongCredentials,

    LockedOut,
}

public sealed record SignInResult(SignInOutcome Outcome, Person? Person = null, DateTimeOffset? LockedUntil = null);

/// <summary>
/// Passwords (ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>: PBKDF2, rehashed when its parameters
/// moved on), lockout, passwordless e-mail links and changes of a person's sign-in (e-mail, password) that end their
/// other sessions.
/// </summary>
public sealed class PersonSignIn(
    IDbContextFactory<ControlPlaneDb> dbs, IPasswordHasher<Person> hasher, IOptions<PeopleOptions> options, TimeProvider time, ILogger<PersonSignIn> logger)
{
    // Verified against when the address is unknown, so an unknown address costs as long as a wrong password.
    private readonly Lazy<string> decoyHash = new(() => hasher.HashPassword(new Person(), Secrets.New("decoy_")));

    public async Task<SignInResult> WithPasswordAsync(string? email, string? password, CancellationToken cancellationToken)
    {
        var normalized = Emails.Normalize(email);
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var person = normalized is null ? null : await db.People.SingleOrDefaultAsync(p => p.NormalizedEmail == normalized, cancellationToken);
        if (person?.PasswordHash is not { } hash || string.IsNullOrEmpty(password) || password.Length > PasswordRules.MaxLength)
        {
            hasher.VerifyHashedPassword(new Person(), decoyHash.Value, password ?? "");
            return new(SignInOutcome.WrongCredentials);
        }

        var now = time.GetUtcNow();
        if (person.LockedUntil > now)
        {
            // Locked: not even the right password opens it, or the lock would only slow guessing down.
            return new(SignInOutcome.LockedOut, LockedUntil: person.LockedUntil);
        }

        var verdict = hasher.VerifyHashedPassword(person, hash, password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return await FailedAsync(db, person.Id, now, cancellationToken);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            person.PasswordHash = hasher.HashPassword(person, password);
        }

        person.FailedSignIns = 0;
        person.LockedUntil = null;
        await db.SaveChangesAsync(cancellationToken);
        return new(SignInOutcome.SignedIn, person);
    }

    // Counted in the database (not read-modify-write), so parallel guesses cannot slip past the threshold.
    private async Task<SignInResult> FailedAsync(ControlPlaneDb db, Guid personId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await db.People.Where(p => p.Id == personId).ExecuteUpdateAsync(s => s.SetProperty(p => p.FailedSignIns, p => p.FailedSignIns + 1), cancellationToken);
        var failures = await db.People.Where(p => p.Id == personId).Select(p => p.FailedSignIns).SingleAsync(cancellationToken);
        if (failures < settings.LockoutThreshold)
        {
            return new(SignInOutcome.WrongCredentials);
        }

        var until = now + settings.LockoutDuration;
        await db.People.Where(p => p.Id == personId).ExecuteUpdateAsync(s => s
            .SetProperty(p => p.LockedUntil, until)
            .SetProperty(p => p.FailedSignIns, 0), cancellationToken);
        logger.LockedOut(personId, until, failures);
        return new(SignInOutcome.LockedOut, LockedUntil: until);
    }

    /// <summary>
    /// Mails a single-use sign-in link when the address belongs to a person; says nothing either way (the caller
    /// answers the same for every address). The link row and its mail are saved together.
    /// </summary>
    public async Task RequestLinkAsync(string? email, CancellationToken cancellationToken)
    {
        if (Emails.Normalize(email) is not { } normalized)
        {
            return;
        }

        var settings = options.Value;
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        if (await db.People.SingleOrDefaultAsync(p => p.NormalizedEmail == normalized, cancellationToken) is not { } person)
        {
            return;
        }

        var open = await db.SignInLinks.CountAsync(l => l.PersonId == person.Id && l.UsedAt == null && l.ExpiresAt > now, cancellationToken);
        if (open >= settings.MaxOpenSignInLinks)
        {
            return;
        }

        var token = Secrets.New(Secrets.SignInLinkPrefix);
        db.SignInLinks.Add(new SignInLink
        {
            Id = Guid.CreateVersion7(now.UtcDateTime),
            TokenHash = Secrets.Hash(token),
            PersonId = person.Id,
            CreatedAt = now,
            ExpiresAt = now + settings.SignInLinkLifetime,
        });
        Outbox.Add(db, person.Email, "Your sign-in link",
            $"Sign in to Insights with this link (it works once, for {settings.SignInLinkLifetime.TotalMinutes:0} minutes):\n\n" +
            $"{Links.SignIn(settings, token)}\n\nIf you did not ask for it, ignore this mail.", now);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The link's person, once: the first use marks the link used (atomically), every later use finds nothing.</summary>
    public async Task<Person?> UseLinkAsync(string? token, CancellationToken cancellationToken)
    {
        if (!Secrets.LooksLike(token, Secrets.SignInLinkPrefix))
        {
            return null;
        }

        var hash = Secrets.Hash(token!);
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var used = await db.SignInLinks.Where(l => l.TokenHash == hash && l.UsedAt == null && l.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now), cancellationToken);
        if (used != 1)
        {
            return null;
        }

        var personId = await db.SignInLinks.Where(l => l.TokenHash == hash).Select(l => l.PersonId).SingleAsync(cancellationToken);
        return await db.People.SingleAsync(p => p.Id == personId, cancellationToken);
    }

    public async Task<Person?> FindAsync(Guid personId, CancellationToken cancellationToken)
    {
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        return await db.People.AsNoTracking().SingleOrDefaultAsync(p => p.Id == personId, cancellationToken);
    }

    /// <summary>
    /// A new login name for the same person (same id, memberships, tokens, audit). Ends their sessions and open links
    /// (new security stamp); the old address is told. Null when another person already uses the address.
    /// </summary>
    public async Task<Person?> ChangeEmailAsync(Guid personId, string newEmail, Actor actor, CancellationToken cancellationToken)
    {
        var normalized = Emails.Normalize(newEmail) ?? throw new ArgumentException("not an e-mail address", nameof(newEmail));
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var person = await db.People.SingleAsync(p => p.Id == personId, cancellationToken);
        if (person.NormalizedEmail == normalized)
        {
            return person;
        }

        if (await db.People.AnyAsync(p => p.NormalizedEmail == normalized, cancellationToken))
        {
            return null;
        }

        var old = person.Email;
        person.Email = newEmail.Trim();
        person.NormalizedEmail = normalized;
        person.SecurityStamp = NewStamp();
        await CloseLinksAsync(db, personId, now, cancellationToken);
        Outbox.Add(db, old, "Your Insights sign-in changed",
            $"The e-mail address you sign in to Insights with is now {person.Email}. If you did not change it, tell your administrator.", now);
        db.AuditLog.Add(Audit.Entry(actor, "person.email_changed", ScopeKind.Organisation, "", new { person = personId }, now));
        await db.SaveChangesAsync(cancellationToken);
        return person;
    }

    /// <summary>The name others see; null when it is too long or holds control characters.</summary>
    public async Task<Person?> SetDisplayNameAsync(Guid personId, string name, Actor actor, CancellationToken cancellationToken)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length > 200 || trimmed.Any(char.IsControl))
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var person = await db.People.SingleAsync(p => p.Id == personId, cancellationToken);
        person.DisplayName = trimmed;
        db.AuditLog.Add(Audit.Entry(actor, "person.renamed", ScopeKind.Organisation, "", new { person = personId }, now));
        await db.SaveChangesAsync(cancellationToken);
        return person;
    }

    /// <summary>Sets a new password and ends every other session and open link.</summary>
    public async Task<Person> SetPasswordAsync(Guid personId, string password, Actor actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbs.CreateDbContextAsync(cancellationToken);
        var person = await db.People.SingleAsync(p => p.Id == personId, cancellationToken);
        person.PasswordHash = hasher.HashPassword(person, password);
        person.SecurityStamp = NewStamp();
        person.FailedSignIns = 0;
        person.LockedUntil = null;
        await CloseLinksAsync(db, personId, now, cancellationToken);
        db.AuditLog.Add(Audit.Entry(actor, "person.password_set", ScopeKind.Organisation, "", new { person = personId }, now));
        await db.SaveChangesAsync(cancellationToken);
        return person;
    }

    /// <summary>Whether the password <see cref="PasswordRules"/> accept, and why not.</summary>
    public string? CheckPassword(string? password) => PasswordRules.Check(password, options.Value.MinPasswordLength);

    internal static string NewStamp() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private static Task<int> CloseLinksAsync(ControlPlaneDb db, Guid personId, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.SignInLinks.Where(l => l.PersonId == personId && l.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now), cancellationToken);
}

/// <summary>What a password must be. Length only (NIST SP 800-63B): composition rules make passwords worse, not stronger.</summary>
public static class PasswordRules
{
    /// <summary>Longest password hashed: PBKDF2 over megabytes would let one request burn a core.</summary>
    public const int MaxLength = 256;

    public static string? Check(string? password, int minLength) => password switch
    {
        null or "" => "a password is required",
        _ when password.Length < minLength => $"at least {minLength} characters",
        _ when password.Length > MaxLength => $"at most {MaxLength} characters",
        _ when password.Any(char.IsControl) => "no control characters",
        _ => null,
    };
}

/// <summary>The links people receive by mail.</summary>
public static class Links
{
    public static string SignIn(PeopleOptions options, string token) => $"{Base(options)}/v1/auth/links/{token}";

    public static string Invitation(PeopleOptions options, string token) => $"{Base(options)}/v1/invitations/{token}";

    private static string Base(PeopleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.PublicBaseUrl.TrimEnd('/');
    }
}
