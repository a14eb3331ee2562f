using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Insights.LoadGenerator.Tests;

/// <summary>
/// A real HTTP server on a free loopback port standing in for one endpoint of a service (the query API's stats, ingest's
/// events), answering as the test says: for the load generator's reactions to answers the real service gives only under
/// load or in a race.
/// </summary>
internal sealed record StandIn(WebApplication App, Uri Address) : IAsyncDisposable
{
    public static async Task<StandIn> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new StandIn(app, new Uri(address));
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
