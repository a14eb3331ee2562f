using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Net;
using Insights.DevStack.ClickHouse;
using Insights.DevStack.Kafka;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Insights.DevStack;

internal static class DevStackExtensions
{
    private static readonly Dictionary<string, string> SwitchMappings = new(StringComparer.Ordinal)
    {
        ["--data-dir"] = "ClickHouse:DataDirectory",
        ["--clickhouse-port"] = "ClickHouse:Port",
        ["--engine-library"] = "ClickHouse:EngineLibrary",
        ["--kafka-port"] = "Kafka:Port",
        ["--env-file"] = "DevStack:EnvFile",
    };

    public static void AddDevStackConfiguration(this WebApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddEnvironmentVariables("INSIGHTS_DEVSTACK_");
        if (Environment.GetEnvironmentVariable("INSIGHTS_CHDB_LIBRARY") is { Length: > 0 } library)
        {
            builder.Configuration["ClickHouse:EngineLibrary"] = library;
        }

        builder.Configuration.AddCommandLine(args, SwitchMappings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical); // start-up failures are reported once, readably, by Program
    }

    /// <summary>Starts both engines before the host is built, so a bad setting or a busy data directory
    /// fails the process at once with a message that says what to do.</summary>
    public static void AddDevStackEngines(this WebApplicationBuilder builder)
    {
        var clickHouse = Bind<ClickHouseServerOptions>(builder.Configuration, "ClickHouse");
        var kafka = Bind<KafkaStackOptions>(builder.Configuration, "Kafka");
        var devStack = Bind<DevStackOptions>(builder.Configuration, "DevStack");

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, clickHouse.Port);
            k.Limits.MaxRequestBodySize = null; // inserts stream; the engine bounds what it keeps
            k.Limits.MaxRequestLineSize = 1024 * 1024; // ClickHouse's http_max_uri_size: param_* values ride in the URL
            k.Limits.MaxRequestBufferSize = 2 * 1024 * 1024;
        });

        builder.Services.AddSingleton(clickHouse);
        builder.Services.AddSingleton(kafka);
        builder.Services.AddSingleton(devStack);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => ChdbEngine.Start(clickHouse.EngineLibrary, Path.GetFullPath(clickHouse.DataDirectory)));
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddSingleton<ClickHouseHttpHandler>();
        builder.Services.AddSingleton(sp => MockKafkaCluster.Start(kafka, sp.GetRequiredService<ILoggerFactory>().CreateLogger<MockKafkaCluster>()));
        builder.Services.AddHostedService<ConsumedLogTrimmer>();
    }

    public static void MapDevStackEndpoints(this WebApplication app)
    {
        var handler = app.Services.GetRequiredService<ClickHouseHttpHandler>();
        app.MapGet("/ping", (HttpContext context) => handler.Available ? ClickHouseHttpHandler.Ping(context) : handler.Handle(context));
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Post], handler.Handle);

        // What tests need to see from outside: a dropped client's query leaves the running list once it is cancelled.
        var engine = app.Services.GetRequiredService<ChdbEngine>();
        var sessions = app.Services.GetRequiredService<SessionRegistry>();
        app.MapGet("/_devstack/stats", () => Results.Ok(new
        {
            openConnections = engine.OpenConnections,
            sessions = sessions.Count,
            runningQueries = handler.RunningQueries,
        }));

        // Fault injection for tests of the services' failure paths (ingest's 503 when Kafka is down).
        var kafka = app.Services.GetRequiredService<MockKafkaCluster>();
        app.MapPost("/_devstack/kafka/brokers/{id:int}/down", (int id) =>
        {
            kafka.SetBrokerDown(id);
            return Results.Ok(new { broker = id, state = "down" });
        });
        app.MapPost("/_devstack/clickhouse/down", () =>
        {
            handler.Available = false;
            return Results.Ok(new { clickhouse = "down" });
        });
        app.MapPost("/_devstack/clickhouse/up", () =>
        {
            handler.Available = true;
            return Results.Ok(new { clickhouse = "up" });
        });
        app.MapPost("/_devstack/kafka/brokers/{id:int}/up", (int id) =>
        {
            kafka.SetBrokerUp(id);
            return Results.Ok(new { broker = id, state = "up" });
        });
    }

    public static async Task RunDevStackAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Insights.DevStack");
        var engine = app.Services.GetRequiredService<ChdbEngine>();
        var kafka = app.Services.GetRequiredService<MockKafkaCluster>();
        var kafkaOptions = app.Services.GetRequiredService<KafkaStackOptions>();
        var options = app.Services.GetRequiredService<DevStackOptions>();

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var clickHouseUrl = address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        logger.LogInformation("ClickHouse {Version} (chDB engine) ready at {Url}, data in {DataPath}",
            engine.Version, clickHouseUrl, engine.DataPath);
        logger.LogInformation("Kafka (librdkafka mock cluster) ready at {Bootstrap}, topics {Topics}",
            kafka.BootstrapServers, string.Join(", ", kafkaOptions.Topics.Select(t => $"{t.Key}({t.Value})")));

        var envFile = Path.GetFullPath(options.EnvFile);
        Directory.CreateDirectory(Path.GetDirectoryName(envFile)!);
        var temporary = envFile + ".tmp";
        await File.WriteAllTextAsync(temporary,
            $"INSIGHTS_CLICKHOUSE_URL={clickHouseUrl}\nINSIGHTS_KAFKA_BOOTSTRAP={kafka.BootstrapServers}\n" +
            $"INSIGHTS_DEVSTACK_PID={Environment.ProcessId}\n");
        File.Move(temporary, envFile, overwrite: true); // readers never see a half-written file
        using var self = Process.GetCurrentProcess();
        logger.LogInformation("Dev stack ready in {Seconds:F2} s; addresses in {EnvFile}. Ctrl-C stops it",
            (DateTime.Now - self.StartTime).TotalSeconds, envFile);

        await app.WaitForShutdownAsync();
        File.Delete(envFile);

        // Every engine connection must be closed before exit, or the process crashes on the way out.
        app.Services.GetRequiredService<SessionRegistry>().Dispose();
        if (engine.OpenConnections > 0)
        {
            logger.LogWarning("{Count} ClickHouse connections still open at shutdown", engine.OpenConnections);
        }

        engine.Dispose();
        kafka.Dispose();
        logger.LogInformation("Dev stack stopped");
    }

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            var problems = results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}");
            throw new InvalidOperationException("Invalid dev stack configuration: " + string.Join("; ", problems));
        }

        return options;
    }
}

/// <summary>Where the dev stack tells other processes its addresses.</summary>
public sealed class DevStackOptions
{
    /// <summary>KEY=VALUE lines other tools and tests read (INSIGHTS_CLICKHOUSE_URL, INSIGHTS_KAFKA_BOOTSTRAP).</summary>
    [Required]
    public string EnvFile { get; set; } = Path.Combine(".devstack", "devstack.env");
}
