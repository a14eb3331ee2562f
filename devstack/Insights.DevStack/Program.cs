using Insights.DevStack;

// The single-machine dev stack: a real ClickHouse engine behind ClickHouse's HTTP interface and a
// Kafka-protocol broker, on loopback, in one process. Production points the services elsewhere.
// Every engine call blocks its thread for the query's whole run (chDB has no async API). With the pool's
// default minimum (one thread per core) a few long queries starve every other request until the pool's
// slow thread injection catches up (seconds); a higher floor lets concurrent queries start at once.
ThreadPool.GetMinThreads(out _, out var completionThreads);
ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount * 16), completionThreads);

try
{
    var builder = WebApplication.CreateSlimBuilder(args);
    builder.AddDevStackConfiguration(args);
    builder.AddDevStackEngines();

    // Disposed on the way out: that flushes the console logger's queue, so the last lines ("Dev stack stopped") are
    // written before the process ends even when the machine is busy.
    await using var app = builder.Build();
    app.MapDevStackEndpoints();

    await app.RunDevStackAsync();
    return 0;
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    await Console.Error.WriteLineAsync(
        $"insights-devstack: {e.Message} Is another dev stack (or ClickHouse) running? Stop it, or pass --clickhouse-port 0 for a free port.");
    return 1;
}
catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or IOException)
{
    // Start-up failures are the user's to fix (missing engine, busy data directory, bad setting): say what, not where.
    await Console.Error.WriteLineAsync($"insights-devstack: {e.Message}");
    return 1;
}
