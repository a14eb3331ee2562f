using Microsoft.AspNetCore.Builder;

namespace Insights.ServiceDefaults;

/// <summary>How every Insights service creates its host builder.</summary>
public static class ServiceHost
{
    /// <summary>
    /// A web application builder whose content root is the binary's own directory, where the build puts the service's
    /// <c>appsettings*.json</c>: <c>dotnet path/to/Insights.X.dll</c> reads the same settings from whatever directory it is
    /// started (scripts/run.sh starts the services from the repository root). The default content root is the working
    /// directory, where a service started elsewhere silently finds no settings files at all.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
}
