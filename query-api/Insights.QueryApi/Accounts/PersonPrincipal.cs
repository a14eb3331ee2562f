using System.Security.Claims;
using System.Text.Encodings.Web;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.QueryApi.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Accounts;

/// <summary>The authentication schemes of people (site keys are not an ASP.NET Core scheme: the pipeline checks them).</summary>
public static class PersonSchemes
{
    /// <summary>Picks <see cref="Token"/> for <c>Authorization: Bearer ipt_…</c>, else <see cref="Cookie"/>.</summary>
    public const string Person = "person";

    public const string Cookie = "session";

    public const string Token = "personal-token";

    public const string OpenIdConnect = "oidc";
}

/// <summary>A person as claims: the id, the security stamp the session was issued under, and how they came (cookie or token).</summary>
public static class PersonPrincipal
{
    private const string StampClaim = "stamp";
    private const string ViaClaim = "via";
    private const string HintClaim = "token_hint";

    public static ClaimsPrincipal Create(Person person, string scheme, string? tokenHint = null)
    {
        ArgumentNullException.ThrowIfNull(person);
        List<Claim> claims =
        [
            // NameIdentifier: antiforgery binds its tokens to this claim, so a token fetched by one person fails for another.
            new(ClaimTypes.NameIdentifier, person.Id.ToString("D")),
            new(StampClaim, person.SecurityStamp),
            new(ViaClaim, tokenHint is null ? "cookie" : "token"),
        ];
        if (tokenHint is not null)
        {
            claims.Add(new(HintClaim, tokenHint));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    /// <summary>The signed-in person, or null for an anonymous caller.</summary>
    public static SignedInPerson? Of(ClaimsPrincipal? user)
    {
        if (user?.Identity is not { IsAuthenticated: true } || !Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
        {
            return null;
        }

        return user.FindFirstValue(ViaClaim) == "token"
            ? new SignedInPerson(id, new Actor("token", $"{id:D} {user.FindFirstValue(HintClaim)}"))
            : new SignedInPerson(id, Actor.Person(id));
    }

    public static bool ViaCookie(ClaimsPrincipal user) => Of(user) is { Actor.Kind: "person" };

    internal static string? Stamp(ClaimsPrincipal user) => user.FindFirstValue(StampClaim);
}

/// <summary>
/// Every request with a session cookie checks the person's security stamp: a new password, a new e-mail or a sign-out
/// everywhere ends the person's other sessions at their next request, not when the cookie expires.
/// </summary>
internal sealed class SessionEvents(PersonSignIn people) : CookieAuthenticationEvents
{
    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var signedIn = PersonPrincipal.Of(context.Principal);
        var person = signedIn is null ? null : await people.FindAsync(signedIn.Id, context.HttpContext.RequestAborted);
        if (person is null || person.SecurityStamp != PersonPrincipal.Stamp(context.Principal!))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(PersonSchemes.Cookie);
        }
    }

    // An API answers; it does not redirect to a login page.
    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }

    public override Task RedirectToAccessDenied(RedirectContext<CookieAuthenticationOptions> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}

/// <summary><c>Authorization: Bearer ipt_…</c>: a personal API token, looked up by hash; anything else is not this scheme's business.</summary>
internal sealed class PersonalTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken(Request);
        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (await tokens.AuthenticateAsync(token, Context.RequestAborted) is not { } found)
        {
            // No result rather than a failure: the pipeline answers 401 unknown_token with its own problem body.
            return AuthenticateResult.NoResult();
        }

        return AuthenticateResult.Success(new AuthenticationTicket(PersonPrincipal.Create(found.Person, Scheme.Name, found.Token.Hint), Scheme.Name));
    }

    public static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers[HeaderNames.Authorization].ToString();
        return authorization.StartsWith("Bearer " + Secrets.ApiTokenPrefix, StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }
}

/// <summary>
/// OpenID Connect sign-in (section <c>Authentication:OpenIdConnect</c>; off while <see cref="Authority"/> is empty). The
/// provider's subject maps to a person: first by <c>sub</c> (stored on the person once linked), else by a verified
/// e-mail address of an existing person, who is then linked. Nobody is created: people come in by invitation.
/// </summary>
public sealed class OpenIdConnectSettings
{
    public const string Section = "Authentication:OpenIdConnect";

    /// <summary>The provider's issuer URL (<c>https://login.example.com/realms/x</c>); empty turns OpenID Connect off.</summary>
    public string? Authority { get; set; }

    /// <summary>This service's client id at the provider.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret (from a secret store or the environment).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Where the provider sends people back; register <c>{PublicBaseUrl}/signin-oidc</c> at the provider.</summary>
    public string CallbackPath { get; set; } = "/signin-oidc";

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}
