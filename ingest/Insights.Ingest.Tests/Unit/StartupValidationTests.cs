using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Insights.Ingest.Tests.Unit;

/// <summary>
/// A wrong setting stops the host at start (the checks <c>AddIngest</c> registers run before the server listens) with a
/// message naming the configuration key, not at the first request.
/// </summary>
public sealed class StartupValidationTests
{
    private static readonly Dictionary<string, string?> DemoSite = new()
    {
        ["Sites:0:Id"] = "demo",
        ["Sites:0:WriteKeys:0"] = "demo-write-key-0001",
        ["Sites:0:ReadKeys:0"] = "demo-read-key-0001",
    };

    [Theory]
    [InlineData("Ingest:MaxEventBytes", "0", "Ingest:MaxEventBytes must be between 1024 and 1048576, got 0")]
    [InlineData("Ingest:MaxRequestBytes", "2000", "Ingest:MaxRequestBytes (2000) must be at least Ingest:MaxEventBytes (32768)")]
    [InlineData("Ingest:TrustedProxies:0", "proxy.internal", "Ingest:TrustedProxies:0 must be an IP address or a CIDR range, got \"proxy.internal\"")]
    [InlineData("Ingest:MaxFutureSkew", "30.00:00:00", "Ingest:MaxFutureSkew must be between 00:00:00 and 7.00:00:00")]
    [InlineData("Ingest:Backlog:PublicShare", "2", "Ingest:Backlog:PublicShare must be between 0.1 and 1")]
    [InlineData("Ingest:Backlog:CheckInterval", "00:00:00.001", "Ingest:Backlog:CheckInterval must be between")]
    [InlineData("Ingest:Backlog:MaxBytesPerPartition", "-1", "Ingest:Backlog:MaxBytesPerPartition must be between 0 and 1099511627776")]
    [InlineData("Kafka:EventsTopic", "events topic!", "Kafka:EventsTopic must be a Kafka topic name")]
    [InlineData("Kafka:DeliveryTimeout", "00:00:00.010", "Kafka:DeliveryTimeout must be between")]
    [InlineData("Kafka:BootstrapServers", "", "Kafka:BootstrapServers")]
    [InlineData("Sites:0:Id", "Demo Site", "Sites:0:Id: must be 1-63 lowercase letters")]
    [InlineData("Sites:0:RateLimitPerSecond", "0", "Sites:0:RateLimitPerSecond: ")]
    [InlineData("Sites:0:ServerRateLimitPerSecond", "0", "Sites:0:ServerRateLimitPerSecond: ")]
    [InlineData("Sites:0:WebhookRateLimitPerSecond", "0", "Sites:0:WebhookRateLimitPerSecond: ")]
    [InlineData("Sites:1:Id", "demo", "Sites: the site id 'demo' is configured twice.")]
    [InlineData("Sites:0:WriteKeys:0", "short", "Sites: a Write key of site 'demo' is shorter than 8 characters.")]
    [InlineData("Sites:0:ReadKeys:0", "demo-write-key-0001", "Sites: a key of site 'demo' is used twice; every key must be unique.")]
    public void A_bad_setting_is_refused_naming_the_key(string key, string value, string message)
    {
        var error = Validate(new Dictionary<string, string?>(DemoSite) { [key] = value });

        Assert.NotNull(error);
        Assert.Contains(error.Failures, failure => failure.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Without_any_configured_site_start_up_is_allowed_because_sites_come_from_the_control_plane() => Assert.Null(Validate([]));

    [Fact]
    public void A_PostgreSql_control_plane_without_a_connection_string_is_refused_naming_the_key()
    {
        var error = Validate(new Dictionary<string, string?>(DemoSite) { ["ControlPlane:Provider"] = "PostgreSql" });

        Assert.NotNull(error);
        Assert.Contains(error.Failures, failure => failure.StartsWith("ControlPlane:ConnectionString", StringComparison.Ordinal));
    }

    [Fact]
    public void Back_pressure_without_a_consumer_group_is_refused_naming_the_keys()
    {
        var error = Validate(new Dictionary<string, string?>(DemoSite)
        {
            ["Ingest:Backlog:MaxBytesPerPartition"] = "4194304",
            ["Ingest:Backlog:ConsumerGroups"] = " , ",
        });

        Assert.NotNull(error);
        Assert.Contains(error.Failures, failure => failure.StartsWith("Ingest:Backlog:ConsumerGroups must name at least one consumer group", StringComparison.Ordinal));
    }

    [Fact]
    public void The_defaults_with_one_site_are_valid() => Assert.Null(Validate(DemoSite));

    private static OptionsValidationException? Validate(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddIngest();
        using var services = builder.Services.BuildServiceProvider();
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            return null;
        }
        catch (OptionsValidationException error)
        {
            return error;
        }
    }
}
