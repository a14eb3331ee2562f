using System.ComponentModel;
using System.Net;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Accounts;

public sealed record SignInBody(string? Email, string? Password);

public sealed record LinkRequestBody(string? Email);

public sealed record AcceptBody(
    [property: Description("Your new password (at least People:MinPasswordLength characters); omit to sign in with e-mail links only. Ignored when you are signed in.")] string? Password,
    [property: Description("Your name as others see it.")] string? DisplayName);

public sealed record MeUpdateBody(string? Email, string? DisplayName);

public sealed record PasswordBody(string? CurrentPassword, string? NewPassword);

public sealed record TokenBody(string? Name, int? ExpiresInDays);

public sealed record PersonView(Guid Id, string Email, string DisplayName, bool HasPassword);

public sealed record MembershipView(string Scope, string ScopeId, string Role);

public sealed record VisibleSite(string Id, string Name, Guid OrganisationId, string Access);

public sealed record MeView(PersonView Person, IReadOnlyList<MembershipView> Memberships, IReadOnlyList<VisibleSite> Sites);

public sealed record CsrfView(string HeaderName, string Token);

public sealed record CreatedToken(
    [property: Description("The token: shown this once; send it as 'Authorization: Bearer <token>'.")] string Token,
    ApiTokenInfo Info);

/// <summary>
/// Sign-in and the signed-in person: <c>/v1/auth/*</c> (password, e-mail links, sign-out, CSRF token, OpenID Connect),
/// <c>/v1/me</c> (who am I, what can I see; e-mail, password), <c>/v1/me/tokens</c> and accepting invitations.
/// </summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var auth = app.MapGroup("/v1/auth").WithTags("Sign-in");
        auth.MapPost("/sign-in", SignIn).WithMetadata(CsrfExempt.Instance).RequireRateLimiting(AccountsRegistration.SignInRateLimit).WithSummary("Sign in with e-mail and password (sets the session cookie)")
            .Accepts<SignInBody>("application/json");
        auth.MapPost("/links", RequestLink).WithMetadata(CsrfExempt.Instance).RequireRateLimiting(AccountsRegistration.SignInRateLimit).WithSummary("Mail a sign-in link (always 202, whether the address is known or not)")
            .Accepts<LinkRequestBody>("application/json");
        auth.MapGet("/links/{token}", LinkPage).WithSummary("The page a mailed link opens: a button that signs in (mail scanners that fetch links do not use them up)");
        auth.MapPost("/links/{token}", UseLink).WithMetadata(CsrfExempt.Instance).RequireRateLimiting(AccountsRegistration.SignInRateLimit).WithSummary("Use a sign-in link (single use)");
        auth.MapPost("/sign-out", (Delegate)SignOut).WithSummary("End this session");
        auth.MapGet("/csrf", Csrf).WithSummary("The antiforgery token to send as 'X-CSRF-Token' with every change made with the session cookie (fetch it after signing in)");
        if (app.ServiceProvider.GetRequiredService<IOptions<OpenIdConnectSettings>>().Value.Enabled)
        {
            auth.MapGet("/oidc", (string? returnUrl) => Results.Challenge(new AuthenticationProperties { RedirectUri = LocalOnly(returnUrl) }, [PersonSchemes.OpenIdConnect]))
                .WithSummary("Sign in at the configured OpenID Connect provider (Authentication:OpenIdConnect)");
        }

        var me = app.MapGroup("/v1/me").WithTags("Me");
        me.MapGet("/", Me).WithSummary("The signed-in person, their memberships and every site they can see");
        me.MapPatch("/", UpdateMe).WithSummary("Change your e-mail address (your login name) or name: same person, same memberships and history")
            .Accepts<MeUpdateBody>("application/json");
        me.MapPut("/password", ChangePassword).WithSummary("Set a new password (ends your other sessions)").Accepts<PasswordBody>("application/json");
        me.MapPost("/tokens", CreateToken).WithSummary("Create a personal API token (shown once)").Accepts<TokenBody>("application/json");
        me.MapGet("/tokens", ListTokens).WithSummary("Your personal API tokens (hints only)");
        me.MapDelete("/tokens/{id}", RevokeToken).WithSummary("Revoke one of your tokens");

        app.MapPost("/v1/invitations/{token}/accept", Accept).WithTags("Sign-in").WithMetadata(CsrfExempt.Instance).RequireRateLimiting(AccountsRegistration.SignInRateLimit)
            .WithSummary("Accept an invitation: as the signed-in person, or as a new person with their own password; signs in")
            .Accepts<AcceptBody>("application/json");
        return app;
    }

    public static async Task<IResult> SignIn(HttpContext context, PersonSignIn people)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        var (body, problem) = await JsonBodies.ReadAsync<SignInBody>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return Answer(problem, context);
        }

        var result = await people.WithPasswordAsync(body!.Email, body.Password, context.RequestAborted);
        switch (result.Outcome)
        {
            case SignInOutcome.SignedIn:
                await StartSessionAsync(context, result.Person!);
                return TypedResults.Ok(View(result.Person!));
            case SignInOutcome.LockedOut:
                context.Response.Headers[HeaderNames.RetryAfter] = Seconds(result.LockedUntil!.Value - DateTimeOffset.UtcNow);
                return Answer(new QueryProblem(StatusCodes.Status429TooManyRequests, "locked_out", "Too many wrong passwords",
                    "This account is locked for a while after repeated wrong passwords; try again later or sign in with an e-mail link."), context);
            default:
                return Answer(new QueryProblem(StatusCodes.Status401Unauthorized, "invalid_credentials", "Wrong e-mail or password",
                    "The e-mail address or the password is wrong."), context);
        }
    }

    public static async Task<IResult> RequestLink(HttpContext context, PersonSignIn people)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        var (body, problem) = await JsonBodies.ReadAsync<LinkRequestBody>(context.Request, context.RequestAborted);
        if (problem is not null || Emails.Normalize(body!.Email) is null)
        {
            return Answer(problem ?? QueryProblem.Invalid("email", "an e-mail address is required"), context);
        }

        await people.RequestLinkAsync(body.Email, context.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static ContentHttpResult LinkPage(string token, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The token is in this page's URL: not cached, not sent on as a referrer, and the page can do nothing but post the form here.
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'";
        var safe = WebUtility.HtmlEncode(token);
        return TypedResults.Content(
            $"<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Sign in to Insights</title>" +
            $"<form method=post action=\"/v1/auth/links/{safe}\"><button>Sign in to Insights</button></form>", "text/html; charset=utf-8");
    }

    public static async Task<IResult> UseLink(string token, HttpContext context, PersonSignIn people)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        if (await people.UseLinkAsync(token, context.RequestAborted) is not { } person)
        {
            return Answer(new QueryProblem(StatusCodes.Status404NotFound, "link_invalid", "This link does not work",
                "Sign-in links work once and for a few minutes; ask for a new one."), context);
        }

        await StartSessionAsync(context, person);
        // The page's form lands in the app; a script gets the person.
        return context.Request.HasFormContentType ? TypedResults.Redirect("/", permanent: false) : TypedResults.Ok(View(person));
    }

    public static async Task<NoContent> SignOut(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.SignOutAsync(PersonSchemes.Cookie);
        return TypedResults.NoContent();
    }

    public static IResult Csrf(HttpContext context, IAntiforgery antiforgery, IOptions<AntiforgeryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(antiforgery);
        ArgumentNullException.ThrowIfNull(options);
        // Outside Development the token's cookie is Secure only; over plain HTTP the antiforgery service would throw (a 500)
        // and a browser would drop the cookie anyway. Say what is wrong instead.
        if (options.Value.Cookie.SecurePolicy == CookieSecurePolicy.Always && !context.Request.IsHttps)
        {
            return Answer(new QueryProblem(StatusCodes.Status400BadRequest, "https_required", "Sign-in needs HTTPS",
                "The session and CSRF cookies are Secure: reach the query API over https, or behind a TLS proxy that sends " +
                "X-Forwarded-Proto with ASPNETCORE_FORWARDEDHEADERS_ENABLED=true (docs/production.md)."), context);
        }

        var tokens = antiforgery.GetAndStoreTokens(context);
        return TypedResults.Ok(new CsrfView(AccountsRegistration.CsrfHeaderName, tokens.RequestToken!));
    }

    public static async Task<IResult> Me(HttpContext context, PersonSignIn people, AccessResolver access, IDbContextFactory<ControlPlaneDb> dbs)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(dbs);
        if (await SignedInAsync(context, people) is not { } person)
        {
            return Answer(QueryProblem.SignInRequired(), context);
        }

        await using var db = await dbs.CreateDbContextAsync(context.RequestAborted);
        var memberships = await db.Memberships.AsNoTracking().Where(m => m.PersonId == person.Id).ToListAsync(context.RequestAborted);
        var sites = await access.SitesVisibleAsync(person.Id, context.RequestAborted);
        return TypedResults.Ok(new MeView(
            View(person),
            [.. memberships.Select(m => new MembershipView(m.ScopeKind.ToString().ToLowerInvariant(), m.ScopeId, RoleNames.Of(m.Role)))],
            [.. sites.Select(s => new VisibleSite(s.Site.Id, s.Site.Name, s.Site.OrganisationId, s.Level.ToString().ToLowerInvariant()))]));
    }

    public static async Task<IResult> UpdateMe(HttpContext context, PersonSignIn people)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        if (PersonPrincipal.Of(context.User) is not { } caller)
        {
            return Answer(QueryProblem.SignInRequired(), context);
        }

        var (body, problem) = await JsonBodies.ReadAsync<MeUpdateBody>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return Answer(problem, context);
        }

        // Both checked before either is applied: a request is applied whole or not at all (as far as checks go).
        if (body!.Email is { } given && Emails.Normalize(given) is null)
        {
            return Answer(QueryProblem.Invalid("email", "not an e-mail address"), context);
        }

        var person = await people.FindAsync(caller.Id, context.RequestAborted);
        if (body.DisplayName is { } name)
        {
            person = await people.SetDisplayNameAsync(caller.Id, name, caller.Actor, context.RequestAborted);
            if (person is null)
            {
                return Answer(QueryProblem.Invalid("displayName", "at most 200 characters, no control characters"), context);
            }
        }

        if (body.Email is { } email)
        {
            person = await people.ChangeEmailAsync(caller.Id, email, caller.Actor, context.RequestAborted);
            if (person is null)
            {
                return Answer(QueryProblem.Conflict("email_taken", "Another person signs in with this address."), context);
            }

            // The new stamp ended every session, this one included: a browser gets a fresh cookie, a token keeps working.
            if (caller.Actor.Kind == "person")
            {
                await StartSessionAsync(context, person);
            }
        }

        return TypedResults.Ok(View(person!));
    }

    public static async Task<IResult> ChangePassword(HttpContext context, PersonSignIn people)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(people);
        if (await SignedInAsync(context, people) is not { } person || PersonPrincipal.Of(context.User) is not { } caller)
        {
            return Answer(QueryProblem.SignInRequired(), context);
        }

        var (body, problem) = await JsonBodies.ReadAsync<PasswordBody>(context.Request, context.RequestAborted);
        problem ??= people.CheckPassword(body!.NewPassword) is { } invalid ? QueryProblem.Invalid("newPassword", invalid) : null;
        if (problem is not null)
        {
            return Answer(problem, context);
        }

        // A person who has a password proves it again: a session left open on a shared machine must not be enough.
        if (person.PasswordHash is not null && (await people.WithPasswordAsync(person.Email, body!.CurrentPassword, context.RequestAborted)).Outcome != SignInOutcome.SignedIn)
        {
            return Answer(new QueryProblem(StatusCodes.Status403Forbidden, "current_password_wrong", "The current password is wrong",
                "Send your current password as 'currentPassword'."), context);
        }

        person = await people.SetPasswordAsync(person.Id, body!.NewPassword!, caller.Actor, context.RequestAborted);
        if (caller.Actor.Kind == "person")
        {
            await StartSessionAsync(context, person);
        }

        return TypedResults.NoContent();
    }

    public static async Task<IResult> CreateToken(HttpContext context, ApiTokens tokens)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tokens);
        if (PersonPrincipal.Of(context.User) is not { } caller)
        {
            return Answer(QueryProblem.SignInRequired(), context);
        }

        var (body, problem) = await JsonBodies.ReadAsync<TokenBody>(context.Request, context.RequestAborted);
        var name = body?.Name?.Trim();
        problem ??= name is not { Length: > 0 and <= 200 } || name.Any(char.IsControl) ? QueryProblem.Invalid("name", "1-200 characters, no control characters")
            : body!.ExpiresInDays is < 1 or > 3650 ? QueryProblem.Invalid("expiresInDays", "1-3650, or omit for no expiry") : null;
        if (problem is not null)
        {
            return Answer(problem, context);
        }

        var expires = body!.ExpiresInDays is { } days ? DateTimeOffset.UtcNow.AddDays(days) : (DateTimeOffset?)null;
        if (await tokens.CreateAsync(caller.Id, name!, expires, context.RequestAborted) is not { } created)
        {
            return Answer(QueryProblem.Conflict("too_many_tokens", $"At most {ApiTokens.MaxPerPerson} tokens; revoke one first."), context);
        }

        return TypedResults.Created($"/v1/me/tokens/{created.Info.Id}", new CreatedToken(created.Token, created.Info));
    }

    public static async Task<IResult> ListTokens(HttpContext context, ApiTokens tokens)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tokens);
        return PersonPrincipal.Of(context.User) is { } caller
            ? TypedResults.Ok(await tokens.ListAsync(caller.Id, context.RequestAborted))
            : Answer(QueryProblem.SignInRequired(), context);
    }

    public static async Task<IResult> RevokeToken(string id, HttpContext context, ApiTokens tokens)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tokens);
        if (PersonPrincipal.Of(context.User) is not { } caller)
        {
            return Answer(QueryProblem.SignInRequired(), context);
        }

        return Guid.TryParse(id, out var tokenId) && await tokens.RevokeAsync(caller.Id, tokenId, context.RequestAborted)
            ? TypedResults.NoContent()
            : Answer(QueryProblem.NotFound("token"), context);
    }

    public static async Task<IResult> Accept(string token, HttpContext context, Invitations invitations)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(invitations);
        var (body, problem) = await JsonBodies.ReadAsync<AcceptBody>(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            return Answer(problem, context);
        }

        var signedIn = PersonPrincipal.Of(context.User);
        var result = await invitations.AcceptAsync(token, signedIn?.Id, signedIn is null ? body!.Password : null, body!.DisplayName, context.RequestAborted);
        return result.Outcome switch
        {
            AcceptOutcome.Accepted => await SignedInAnswerAsync(context, result.Person!, signedIn is null),
            AcceptOutcome.SignInFirst => Answer(QueryProblem.Conflict("sign_in_to_accept",
                "This address already has a sign-in: sign in (password or e-mail link), then accept again."), context),
            AcceptOutcome.OtherPerson => Answer(new QueryProblem(StatusCodes.Status403Forbidden, "invitation_for_another_person",
                "This invitation is for another address", "Sign out, or sign in as the invited address, then accept."), context),
            AcceptOutcome.InvalidPassword => Answer(QueryProblem.Invalid("password", result.Error!), context),
            _ => Answer(QueryProblem.NotFound("invitation"), context),
        };
    }

    private static async Task<IResult> SignedInAnswerAsync(HttpContext context, Person person, bool startSession)
    {
        if (startSession)
        {
            await StartSessionAsync(context, person);
        }

        return TypedResults.Ok(View(person));
    }

    internal static Task StartSessionAsync(HttpContext context, Person person) =>
        context.SignInAsync(PersonSchemes.Cookie, PersonPrincipal.Create(person, PersonSchemes.Cookie), new AuthenticationProperties { IsPersistent = true });

    private static async Task<Person?> SignedInAsync(HttpContext context, PersonSignIn people) =>
        PersonPrincipal.Of(context.User) is { } caller ? await people.FindAsync(caller.Id, context.RequestAborted) : null;

    internal static PersonView View(Person person) => new(person.Id, person.Email, person.DisplayName, person.PasswordHash is not null);

    /// <summary>The one mapping of a refusal to HTTP (problem details with a reason), shared with the query endpoints.</summary>
    internal static IResult Answer(QueryProblem problem, HttpContext context) =>
        QueryOutcome<object>.Refused(problem).ToHttpResult(context.Response).Result;

    private static string Seconds(TimeSpan wait) =>
        ((int)Math.Ceiling(Math.Max(1, wait.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Only a path on this host: an open redirect would let a phishing link borrow our sign-in page.
    private static string LocalOnly(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
}
