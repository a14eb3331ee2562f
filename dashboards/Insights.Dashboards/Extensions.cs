using Insights.Dashboards.Api;
using Insights.Dashboards.Components;
using Insights.Dashboards.Components.Shared;
using Insights.ServiceDefaults;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Insights.Dashboards;

/// <summary>The web app's registrations and pipeline: Blazor components, the app's session cookie, the typed query API client.</summary>
public static class DashboardsRegistration
{
    public static WebApplicationBuilder AddDashboards(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<DashboardOptions>(builder.Configuration, DashboardOptions.Section);

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddAuthorization();
        services.AddAuthentication(ApiSession.Scheme).AddCookie(ApiSession.Scheme, cookie =>
        {
            cookie.Cookie.Name = "insights-dashboard";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // https in production, plain http on 127.0.0.1 for the dev stack
            cookie.LoginPath = "/sign-in";
            cookie.LogoutPath = "/sign-out";
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.SlidingExpiration = true;
        });
        services.AddOptions<CookieAuthenticationOptions>(ApiSession.Scheme).Configure<IOptions<DashboardOptions>>((cookie, options) =>
            cookie.ExpireTimeSpan = options.Value.SessionIdleTimeout);

        // The cookie holds the query API session: its keys persist under the state directory, so a restart keeps people signed in.
        services.AddDataProtection().SetApplicationName("Insights.Dashboards");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<DashboardOptions>, ILoggerFactory>((keys, options, logs) =>
        {
            if (!string.IsNullOrWhiteSpace(options.Value.KeysDirectory))
            {
                keys.XmlRepository = new FileSystemXmlRepository(Directory.CreateDirectory(options.Value.KeysDirectory), logs);
            }
        });

        services.AddScoped<DashboardContext>();
        services.AddHttpClient<QueryApiClient>((provider, http) =>
        {
            http.BaseAddress = new Uri(provider.GetRequiredService<IOptions<DashboardOptions>>().Value.QueryApiUrl);
            http.Timeout = Timeout.InfiniteTimeSpan; // per call (RequestTimeoutSeconds), so live streams can stay open
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
        {
            UseCookies = false, // every call carries its own person's session; a shared cookie jar would mix people
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        return builder;
    }

    public static WebApplication UseDashboards(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/not-found");
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapDashboardPages(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Sign-out: a form post (antiforgery-checked) that ends the query API session and the app's cookie.</summary>
    public static WebApplication MapSignInEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/sign-out", async (HttpContext context, IAntiforgery antiforgery, QueryApiClient api) =>
        {
            await antiforgery.ValidateRequestAsync(context);
            if (ApiSession.Cookies(context.User) is { } cookies)
            {
                await api.SignOutAsync(cookies, context.RequestAborted);
            }

            await context.SignOutAsync(ApiSession.Scheme);
            return Results.LocalRedirect("/sign-in?signedOut=1");
        }).DisableAntiforgery(); // validated above, explicitly: the form is plain HTML, not a Blazor form
        return app;
    }
}
