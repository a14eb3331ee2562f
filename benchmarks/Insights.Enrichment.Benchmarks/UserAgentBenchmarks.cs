using BenchmarkDotNet.Attributes;
using Insights.Enrichment.Bots;
using Insights.Enrichment.Device;

namespace Insights.Enrichment.Benchmarks;

/// <summary>What a user-agent cache miss costs: the crawler list over a browser's agent (the common, no-match case), the device parser.</summary>
[MemoryDiagnoser]
public class UserAgentBenchmarks
{
    private const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    private const string Bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    private CrawlerMatcher matcher = null!;
    private UserAgentClassifier classifier = null!;

    [GlobalSetup]
    public void Setup()
    {
        var path = Path.Combine(new EnrichmentOptions().DataDirectory, IpDataPackages.CrawlerUserAgents, "crawler-user-agents.json");
        matcher = File.Exists(path) ? CrawlerMatcher.Load(path) : throw new InvalidOperationException($"{path} is missing: run scripts/fetch-ipdata.sh first.");
        classifier = new UserAgentClassifier(matcher);
    }

    [Benchmark(Baseline = true)]
    public object Device() => UserAgentParser.Parse(Chrome);

    [Benchmark]
    public object? CrawlerListBrowser() => matcher.Match(Chrome);

    [Benchmark]
    public object? CrawlerListBot() => matcher.Match(Bot);

    [Benchmark]
    public object ClassifyMiss() => classifier.Classify(Chrome, 0);
}
