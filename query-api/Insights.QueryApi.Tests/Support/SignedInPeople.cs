using System.Security.Claims;
using System.Text.Encodings.Web;
using Insights.QueryApi.Partners;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// Stands in for the sign-in (cookie or personal token) until it is merged: a request carrying <see cref="Header"/>
/// is the person with that id, exactly as the sign-in presents a person to the endpoints (<see cref="PartnerEndpoints.PersonClaim"/>).
/// Only the question "who is this" is replaced; what the person may see still comes from the real control-plane store.
/// </summary>
public sealed class SignedInPeople(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "TestPerson";
    public const string Header = "X-Test-Person";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers[Header] is not [{ Length: > 0 } person])
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(PartnerEndpoints.PersonClaim, person)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <summary>The API with this sign-in added.</summary>
    public static IWebHostBuilder Add(IWebHostBuilder builder) => builder.ConfigureTestServices(services =>
        services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, SignedInPeople>(SchemeName, null));
}
