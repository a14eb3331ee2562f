using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Insights.Dashboards.Api;

/// <summary>
/// The query API session, kept inside the app's own (Data Protection encrypted, HttpOnly) cookie as a claim: the
/// browser never sees the API's cookie, and every call the app makes for the person forwards it.
/// </summary>
public static class ApiSession
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieClaim = "insights:api-cookie";

    public static ClaimsPrincipal Principal(SignedInPerson person, string apiCookies) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, person.Id.ToString()),
        new Claim(ClaimTypes.Name, string.IsNullOrWhiteSpace(person.DisplayName) ? person.Email : person.DisplayName),
        new Claim(ClaimTypes.Email, person.Email),
        new Claim(CookieClaim, apiCookies),
    ], Scheme));

    /// <summary>The <c>Cookie</c> header value to send to the query API, or null when nobody is signed in.</summary>
    public static string? Cookies(ClaimsPrincipal? user) => user?.FindFirst(CookieClaim)?.Value;

    /// <summary><c>name=value</c> of each cookie a response sets (attributes dropped; deletions left out), joined as a <c>Cookie</c> header.</summary>
    public static string? FromSetCookie(HttpResponseMessage response, string? existing = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        var jar = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (existing ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (pair.Split('=', 2) is [var name, var value])
            {
                jar[name] = value;
            }
        }

        if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
        {
            foreach (var cookie in cookies)
            {
                var pair = cookie.Split(';', 2)[0];
                if (pair.Split('=', 2) is [var name, var value])
                {
                    if (value.Length == 0)
                    {
                        jar.Remove(name.Trim());
                    }
                    else
                    {
                        jar[name.Trim()] = value.Trim();
                    }
                }
            }
        }

        return jar.Count == 0 ? null : string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}"));
    }
}
