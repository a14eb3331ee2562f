using System.Runtime.InteropServices;
using Insights.LoadGenerator;

// insights-load load  [options]   drive load at ingest and report throughput, latency, freshness, exactness
// insights-load demo  [options]   lifelike demo history, then live demo traffic until Ctrl-C
// insights-load demo-setup --account FILE [--invitation TOKEN]   the demo partner's sign-in and client sites
// insights-load bare  [--port N]  the bare-Kestrel baseline endpoint
// insights-load reports [--clickhouse URL] [--readers N]   report latency with concurrent readers (ReportLoad.cs)
using var cancel = new CancellationTokenSource();
// Ctrl-C and SIGTERM (scripts/run.sh stopping the demo) end the run cleanly, with its report.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

if (args.Length == 0 || args[0] is "-h" or "--help" || args[0] is not ("load" or "demo" or "demo-setup" or "bare" or "reports" or "produce"))
{
    Console.Error.WriteLine("""
        usage: Insights.LoadGenerator load|demo|demo-setup|bare|reports|produce [options]
          --ingest URL        ingest base address            (http://127.0.0.1:8080)
          --key KEY           write key                      (loadtest-write-key-0001)
          --query URL|none    query API for freshness/counts (http://127.0.0.1:8081)
          --server-key KEY    demo: key for chats and orders (demo-server-key-0001)
          --read-key KEY      read key                       (loadtest-read-key-0001)
          --site ID           site the keys belong to        (loadtest)
          --rate N            events/s offered, 0 = max      (0)
          --batch N           events per request, 1-500      (100)
          --duration T        e.g. 30s, 5m                   (30s)
          --max-events N      load, produce: stop after N    (0 = no limit)
          --concurrency N     requests in flight             (32)
          --settle T          wait for the final count       (60s)
          --poll T            freshness poll interval        (250ms)
          --probe totals|full freshness poll: the stats totals, or the full report (totals)
          --no-progress       plain output (also when redirected)
          --port N            bare: port                     (8090)
          --kafka SERVERS     produce: ingest's Kafka        (127.0.0.1:9092)
          --summary FILE      load, produce: figures as key=value lines too
          --history-days N    demo: days of history first    (7; ingest's Ingest:MaxPastAge must cover them)
          --seed N            demo: seed of the history      (1)
          --account FILE      demo: the demo sign-in and its client sites (demo-setup writes it)
          --invitation TOKEN  demo-setup: the partner admin's invitation (iin_… from insights-admin init)
          --clickhouse URL    reports: seed 30 days of history there first (ClickHouse HTTP)
          --database NAME     reports: ClickHouse database   (insights)
          --readers N         reports: concurrent readers    (4)
          --events N          reports: events to seed        (10000000)
        """);
    return 2;
}

try
{
    var options = args[0] == "reports" ? new LoadOptions() : LoadOptions.Parse(args.Skip(1).ToArray()); // reports parses its own (ReportLoad.Parse)
    return args[0] switch
    {
        "demo" => await new DemoTraffic(options with { Site = args.Contains("--site") ? options.Site : "demo",
            Key = args.Contains("--key") ? options.Key : "demo-write-key-0001",
            ReadKey = args.Contains("--read-key") ? options.ReadKey : "demo-read-key-0001" }).RunAsync(cancel.Token),
        "demo-setup" => await DemoTraffic.SetUpAsync(options, cancel.Token),
        "bare" => await BareKestrel.RunAsync(options, cancel.Token),
        "reports" => await ReportLoad.Parse(args.Skip(1).ToArray()).RunAsync(cancel.Token),
        "produce" => RawProducer.Run(options, cancel.Token),
        _ => await new LoadRun(options).RunAsync(cancel.Token),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"insights-load: {e.Message} (see --help)");
    return 2;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"insights-load: cannot reach the target: {e.Message}. Is it running (scripts/run.sh)?");
    return 1;
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
