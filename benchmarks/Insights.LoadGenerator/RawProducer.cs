using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Insights.Contracts;

namespace Insights.LoadGenerator;

/// <summary>
/// The ceiling ingest is compared with: events as ingest would encode them (<see cref="EventCodec.ToMessage"/>: key
/// <c>site:visitor</c>, the value, one event id each) produced straight to the same broker and topic with ingest's
/// producer settings (acks=all, idempotent, lz4, linger 5 ms), as fast as the broker acknowledges them. No HTTP, no
/// parsing, no validation: what is left is the broker's and the client's share.
/// </summary>
public static class RawProducer
{
    public static int Run(LoadOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ProducerConfig
        {
            BootstrapServers = options.Kafka,
            ClientId = "insights-load-raw",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            CompressionType = CompressionType.Lz4,
            DeliveryReportFields = "status",
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        var runId = Guid.NewGuid().ToString("N")[..8];
        var random = new Random(1);
        long acknowledged = 0, failed = 0, sequence = 0;
        void Delivered(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref failed);
            }
            else
            {
                Interlocked.Increment(ref acknowledged);
            }
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < options.Duration && (options.MaxEvents == 0 || sequence < options.MaxEvents) && !cancellation.IsCancellationRequested)
        {
            var e = Event(options.Site, runId, ++sequence, random);
            var message = EventCodec.ToMessage(e);
            while (true)
            {
                try
                {
                    producer.Produce(Topics.Events, message, Delivered);
                    break;
                }
                catch (ProduceException<byte[], byte[]> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10)); // the local queue is full: wait for acknowledgements
                }
            }
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        var elapsed = clock.Elapsed;
        var rate = Interlocked.Read(ref acknowledged) / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"raw producer: {Interlocked.Read(ref acknowledged):N0} events acknowledged in {elapsed.TotalSeconds:F1} s = {rate:N0} ev/s, {Interlocked.Read(ref failed):N0} failed"));
        if (options.SummaryFile is not null)
        {
            File.WriteAllLines(options.SummaryFile,
            [
                string.Create(CultureInfo.InvariantCulture, $"accepted={Interlocked.Read(ref acknowledged)}"),
                string.Create(CultureInfo.InvariantCulture, $"accepted_per_second={rate:F0}"),
                string.Create(CultureInfo.InvariantCulture, $"failed={Interlocked.Read(ref failed)}"),
            ]);
        }

        return Interlocked.Read(ref failed) == 0 ? 0 : 1;
    }

    /// <summary>A page view shaped like the HTTP load's (<see cref="TrafficModel"/>) after ingest stamped it.</summary>
    private static PipelineEvent Event(string site, string runId, long n, Random random)
    {
        var now = DateTimeOffset.UtcNow;
        return new PipelineEvent
        {
            EventId = $"raw-{runId}-{n}",
            Type = EventTypes.Pageview,
            SiteId = site,
            AnonymousId = $"v-{runId}-{random.Next(1, 20_000)}",
            Timestamp = now,
            ReceivedAt = now,
            Ip = "203.0.113." + random.Next(1, 255).ToString(CultureInfo.InvariantCulture),
            UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            Url = "https://shop.example/pricing",
            Title = "Shop /pricing",
            Locale = "en-US",
            ScreenWidth = 1440,
            ScreenHeight = 900,
        };
    }
}
