using Insights.DevStack;

// The single-machine dev stack: a real ClickHouse engine behind ClickHouse's HTTP interface and a
// Kafka-protocol broker, on loopback, in one process. Production points the services elsewhere.
try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.AddDevStackConfiguration(args);
    builder.AddDevStackEngines();

    var app = builder.Build();
    app.MapDevStackEndpoints();

    await app.RunDevStackAsync();
    return 0;
}
catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or IOException)
{
    // Start-up failures are the user's to fix (missing engine, busy data directory, bad setting): say what, not where.
    await Console.Error.WriteLineAsync($"insights-devstack: {e.Message}");
    return 1;
}
