using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Insights.ControlPlane;
using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ControlPlane.Store;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Accounts;

/// <summary>People in the query API: the store, sign-in schemes (session cookie, personal token, optional OpenID Connect), CSRF, mail.</summary>
public static class AccountsRegistration
{
    public const string CsrfHeaderName = "X-CSRF-Token";

    /// <summary>The rate-limit policy of every anonymous way in (<see cref="PeopleOptions.SignInAttemptsPerMinute"/>).</summary>
    public const string SignInRateLimit = "sign-in";

    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var development = builder.Environment.IsDevelopment();

        services.AddControlPlane(builder.Configuration);
        services.AddValidatedOptions<PeopleOptions>(builder.Configuration, PeopleOptions.Section);
        services.AddValidatedOptions<MailOptions>(builder.Configuration, MailOptions.Section);
        services.AddValidatedOptions<OpenIdConnectSettings>(builder.Configuration, OpenIdConnectSettings.Section);
        services.AddSingleton<IPasswordHasher<Person>, PasswordHasher<Person>>();
        services.AddSingleton<PersonSignIn>();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<Invitations>();
        services.AddSingleton<AccessResolver>();
        services.AddSingleton<Provisioning>();
        services.AddSingleton<Members>();
        services.AddHostedService<SmtpOutboxSender>();
        services.AddScoped<SessionEvents>();

        var authentication = services.AddAuthentication(PersonSchemes.Person)
            .AddPolicyScheme(PersonSchemes.Person, null, options => options.ForwardDefaultSelector = context =>
                PersonalTokenHandler.BearerToken(context.Request) is null ? PersonSchemes.Cookie : PersonSchemes.Token)
            .AddScheme<AuthenticationSchemeOptions, PersonalTokenHandler>(PersonSchemes.Token, null)
            .AddCookie(PersonSchemes.Cookie, options =>
            {
                // __Host-: only this host, path /, Secure — a sibling subdomain cannot plant or read it. Browsers refuse
                // the prefix without Secure, so a development machine on plain http gets an unprefixed name.
                options.Cookie.Name = development ? "insights-session" : "__Host-insights-session";
                options.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.Path = "/";
                options.SlidingExpiration = true;
                options.EventsType = typeof(SessionEvents);
            });

        services.AddOptions<CookieAuthenticationOptions>(PersonSchemes.Cookie).Configure<IOptions<PeopleOptions>>((cookie, people) =>
            cookie.ExpireTimeSpan = people.Value.SessionIdleTimeout);

        // Whether the scheme exists at all is decided here, from configuration: a scheme cannot be added after start-up.
        var oidc = builder.Configuration.GetSection(OpenIdConnectSettings.Section).Get<OpenIdConnectSettings>() ?? new OpenIdConnectSettings();
        if (oidc.Enabled)
        {
            authentication.AddOpenIdConnect(PersonSchemes.OpenIdConnect, options =>
            {
                options.Authority = oidc.Authority;
                options.ClientId = oidc.ClientId;
                options.ClientSecret = oidc.ClientSecret;
                options.CallbackPath = oidc.CallbackPath;
                options.ResponseType = "code";
                options.UsePkce = true;
                options.Scope.Add("email");
                options.SignInScheme = PersonSchemes.Cookie;
                options.MapInboundClaims = false;
                options.Events.OnTokenValidated = MapExternalPersonAsync;
            });
        }

        // Anonymous sign-in traffic, limited per client address: one policy for every way in.
        services.AddRateLimiter(options =>
        {
            options.AddPolicy(SignInRateLimit, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<PeopleOptions>>().Value.SignInAttemptsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            options.OnRejected = (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
                rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(Math.Max(1, wait.TotalSeconds))).ToString(CultureInfo.InvariantCulture);
                return new ValueTask(AuthApi.Answer(new QueryProblem(StatusCodes.Status429TooManyRequests, "too_many_attempts", "Too many sign-in attempts",
                    "Too many sign-in attempts from this address; wait a minute and try again."), rejected.HttpContext).ExecuteAsync(rejected.HttpContext));
            };
        });

        // Cookies and antiforgery tokens are encrypted with data-protection keys kept in the control-plane store: every
        // instance shares them, so a session opened on one instance works on all, and across restarts.
        services.AddDataProtection().PersistKeysToControlPlane("Insights.QueryApi");

        services.AddAntiforgery(options =>
        {
            options.HeaderName = CsrfHeaderName;
            options.Cookie.Name = development ? "insights-csrf" : "__Host-insights-csrf";
            options.Cookie.SecurePolicy = development ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
        });
        return builder;
    }

    /// <summary>
    /// Authentication, then CSRF: an unsafe request (POST, PUT, PATCH, DELETE) that rides on the session cookie must
    /// carry the antiforgery header (token from <c>GET /v1/auth/csrf</c>), or it is refused with 403 <c>csrf_token_invalid</c>.
    /// A bearer request is not at risk (a browser never adds that header on its own) and needs none.
    /// </summary>
    public static WebApplication UseAccounts(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
                && PersonPrincipal.ViaCookie(context.User) && context.GetEndpoint()?.Metadata.GetMetadata<CsrfExempt>() is null)
            {
                var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(context))
                {
                    await TypedResults.Problem("Send the token from GET /v1/auth/csrf in the 'X-CSRF-Token' header with every change made with the session cookie.",
                        statusCode: StatusCodes.Status403Forbidden, title: "CSRF token missing or invalid",
                        extensions: new Dictionary<string, object?> { ["reason"] = "csrf_token_invalid" }).ExecuteAsync(context);
                    return;
                }
            }

            await next(context);
        });
        return app;
    }

    private static async Task MapExternalPersonAsync(Microsoft.AspNetCore.Authentication.OpenIdConnect.TokenValidatedContext context)
    {
        var subject = context.Principal?.FindFirstValue("sub");
        var email = Emails.Normalize(context.Principal?.FindFirstValue("email"));
        var verified = string.Equals(context.Principal?.FindFirstValue("email_verified"), "true", StringComparison.OrdinalIgnoreCase);
        var dbs = context.HttpContext.RequestServices.GetRequiredService<IDbContextFactory<ControlPlaneDb>>();
        await using var db = await dbs.CreateDbContextAsync(context.HttpContext.RequestAborted);
        var issuerSubject = $"{context.Options.Authority}|{subject}";
        var person = subject is null ? null
            : await db.People.SingleOrDefaultAsync(p => p.ExternalSubject == issuerSubject, context.HttpContext.RequestAborted)
              ?? (verified && email is not null ? await db.People.SingleOrDefaultAsync(p => p.NormalizedEmail == email && p.ExternalSubject == null, context.HttpContext.RequestAborted) : null);
        if (person is null)
        {
            context.Fail("No Insights person for this sign-in: ask for an invitation.");
            return;
        }

        person.ExternalSubject = issuerSubject;
        await db.SaveChangesAsync(context.HttpContext.RequestAborted);
        context.Principal = PersonPrincipal.Create(person, PersonSchemes.Cookie);
    }
}

/// <summary>Marks an endpoint that establishes a session rather than acting with one (sign-in, links, invitations): no CSRF header needed.</summary>
public sealed class CsrfExempt
{
    public static CsrfExempt Instance { get; } = new();
}
