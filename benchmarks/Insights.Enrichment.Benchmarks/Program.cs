using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Running;
using Insights.Enrichment;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// dotnet run -c Release --project benchmarks/Insights.Enrichment.Benchmarks -- --filter '*'
// dotnet run -c Release --project benchmarks/Insights.Enrichment.Benchmarks -- --load-time   (start-up cost of the data)
if (args is ["--load-time"])
{
    using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
    var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
    var clock = Stopwatch.StartNew();
    using var pipeline = new EnrichmentPipeline(Options.Create(new EnrichmentOptions()), logging.CreateLogger<EnrichmentPipeline>(), new EnrichmentMetrics(meters));
    Console.WriteLine($"pipeline ready in {clock.ElapsedMilliseconds} ms; managed heap after GC {GC.GetTotalMemory(true) / 1_048_576} MB");
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
