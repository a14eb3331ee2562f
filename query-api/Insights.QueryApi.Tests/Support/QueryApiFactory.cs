using Insights.DevStack.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Insights.QueryApi.Tests.Support;

/// <summary>The real query API in memory, configured only by the given settings (environment "Testing", so the
/// development demo site is not loaded).</summary>
public sealed class QueryApiFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting(TestDataDirectories.Setting, TestDataDirectories.New());
        // Every in-memory request comes from one (unknown) address: tests that sign in a lot must not trip the
        // per-address limit, which its own test sets low.
        builder.UseSetting("People:SignInAttemptsPerMinute", "1000000");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>Two sites with every kind of key; "shop" reports in Europe/Berlin so day boundaries are not UTC's.</summary>
public static class TestSites
{
    public const string Shop = "shop";
    public const string ShopRead = "shop-read-key-0001";
    public const string ShopWrite = "shop-write-key-0001";
    public const string ShopServer = "shop-server-key-0001";
    public const string Other = "other";
    public const string OtherRead = "other-read-key-0001";
    public const string OtherWrite = "other-write-key-0001";
    public const string OtherServer = "other-server-key-0001";

    public static Dictionary<string, string?> Settings(string connectionString, string database) => new()
    {
        ["ClickHouse:ConnectionString"] = connectionString,
        ["ClickHouse:Database"] = database,
        // Presence reads Kafka; the report tests run without it (the live tests turn it on with their own topic).
        ["Live:Enabled"] = "false",
        ["Sites:0:Id"] = Shop,
        ["Sites:0:TimeZone"] = "Europe/Berlin",
        ["Sites:0:WriteKeys:0"] = ShopWrite,
        ["Sites:0:ServerKeys:0"] = ShopServer,
        ["Sites:0:ReadKeys:0"] = ShopRead,
        ["Sites:1:Id"] = Other,
        ["Sites:1:TimeZone"] = "UTC",
        ["Sites:1:WriteKeys:0"] = OtherWrite,
        ["Sites:1:ServerKeys:0"] = OtherServer,
        ["Sites:1:ReadKeys:0"] = OtherRead,
    };
}
