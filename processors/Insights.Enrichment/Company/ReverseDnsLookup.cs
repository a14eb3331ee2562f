using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Insights.Enrichment.Company;

/// <summary>Resolves an address to its PTR host name. The default asks the system resolver; tests substitute one.</summary>
public interface IReverseDnsResolver
{
    Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken);
}

internal sealed class SystemReverseDnsResolver : IReverseDnsResolver
{
    public async Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var entry = await Dns.GetHostEntryAsync(address).WaitAsync(cancellationToken);
        return entry.HostName;
    }
}

/// <summary>
/// Background reverse DNS for businesses whose domain no source knows. The batch only ever enqueues (a bounded
/// channel; when full the lookup is skipped); workers resolve with a time limit and publish the result by replacing
/// the IP's cache entry, so the domain shows up on the IP's later events and no event ever waits for DNS.
/// </summary>
/// <remarks>
/// A timed-out lookup is abandoned for the result, but its worker waits for it to end before taking the next one:
/// the system resolver cannot be cancelled, and this keeps the threads it holds bounded by the concurrency.
/// </remarks>
internal sealed class ReverseDnsLookup : IAsyncDisposable
{
    private readonly Channel<IpIntel> queue;
    private readonly IReverseDnsResolver resolver;
    private readonly TimeSpan timeout;
    private readonly Action<IpIntel> publish;
    private readonly EnrichmentMetrics metrics;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task[] workers;

    public ReverseDnsLookup(
        ReverseDnsOptions options, IReverseDnsResolver resolver, Action<IpIntel> publish, EnrichmentMetrics metrics, ILogger logger)
    {
        this.resolver = resolver;
        this.publish = publish;
        this.metrics = metrics;
        this.logger = logger;
        timeout = TimeSpan.FromMilliseconds(options.TimeoutMilliseconds);
        queue = Channel.CreateBounded<IpIntel>(new BoundedChannelOptions(options.QueueSize)
        {
            // Wait mode makes TryWrite answer false when full (DropWrite would claim success and drop silently).
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
        });
        workers = [.. Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(WorkAsync))];
    }

    /// <summary>Queues a lookup once per cached IP; never blocks. False when the queue was full.</summary>
    public bool Request(IpIntel intel)
    {
        if (Interlocked.Exchange(ref intel.ReverseDnsQueued, 1) != 0)
        {
            return true;
        }

        if (queue.Writer.TryWrite(intel))
        {
            return true;
        }

        metrics.ReverseDns("skipped");
        return false;
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var intel in queue.Reader.ReadAllAsync(stopping.Token))
            {
                await LookUpAsync(intel);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task LookUpAsync(IpIntel intel)
    {
        if (intel.Full is null || intel.Company is null)
        {
            return;
        }

        var lookup = resolver.ResolveAsync(intel.Full, stopping.Token);
        string? host;
        try
        {
            host = await lookup.WaitAsync(timeout, stopping.Token);
        }
        catch (TimeoutException)
        {
            metrics.ReverseDns("timeout");
            await Drain(lookup);
            return;
        }
        catch (Exception error) when (error is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // No PTR record is the common answer (SocketException "host not found"): a miss, not a fault.
            metrics.ReverseDns("failed");
            LogMessages.ReverseDnsFailed(logger, error.GetType().Name);
            return;
        }

        var domain = ReverseDnsDomain.FromHostName(host, intel.FullText);
        if (domain is null)
        {
            metrics.ReverseDns("no_domain");
            return;
        }

        metrics.ReverseDns("resolved");
        publish(intel.WithCompany(intel.Company with { Domain = domain, DomainSource = "reverse_dns" }));
    }

    private static async Task Drain(Task<string?> lookup)
    {
        try
        {
            await lookup;
        }
        catch (Exception)
        {
            // Its outcome was already counted as a timeout.
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await stopping.CancelAsync();
        await Task.WhenAll(workers);
        stopping.Dispose();
    }
}

/// <summary>The organization's registrable domain from a PTR host name, or null when the name is the ISP's pattern.</summary>
internal static class ReverseDnsDomain
{
    /// <summary>Second-level labels under which registrations happen at the third level (example.co.uk).</summary>
    private static readonly HashSet<string> SecondLevel = new(StringComparer.Ordinal)
    {
        "co", "com", "net", "org", "gov", "edu", "ac", "ltd", "plc", "or", "ne", "go", "gob", "gouv", "mil", "nhs", "sch", "govt",
    };

    /// <summary>Words in host names that ISPs give their customers' lines: such a name says who the ISP is, not who the visitor is.</summary>
    private static readonly string[] AccessWords =
    [
        "dsl", "dyn", "dynamic", "pool", "dhcp", "cable", "broadband", "cust", "customer", "static", "client", "ppp", "fttx", "ftth",
        "res", "residential", "mobile", "user", "host", "ip", "adsl", "vdsl", "wlan", "wifi", "nat", "cpe",
    ];

    public static string? FromHostName(string? host, string? addressText)
    {
        if (string.IsNullOrWhiteSpace(host) || host.Length > 253 || host == addressText)
        {
            return null;
        }

        var labels = host.TrimEnd('.').ToLowerInvariant().Split('.');
        if (labels.Length < 2 || labels.Any(l => l.Length == 0 || l.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))))
        {
            return null;
        }

        // Host labels spelling the address (1-2-3-4, 1.2.3.4, ip-1-2-3-4) or access words are an ISP's naming scheme.
        var hostPart = string.Join('.', labels[..^2]);
        var octets = addressText?.Split('.', ':') ?? [];
        var digitGroups = labels[..^1].SelectMany(l => l.Split('-')).Count(part => part.Length > 0 && part.All(char.IsAsciiDigit));
        if (digitGroups >= 2 || (octets.Length == 4 && octets.Count(o => hostPart.Contains(o, StringComparison.Ordinal)) >= 3))
        {
            return null;
        }

        if (labels[..^2].SelectMany(l => l.Split('-')).Any(part => AccessWords.Contains(part.TrimEnd("0123456789".ToCharArray()))))
        {
            return null;
        }

        var take = labels.Length >= 3 && labels[^1].Length == 2 && SecondLevel.Contains(labels[^2]) ? 3 : 2;
        return string.Join('.', labels[^take..]);
    }
}
