using Confluent.Kafka;
using Insights.DevStack.Kafka;

namespace Insights.DevStack.Tests.Kafka;

public sealed class LibrdkafkaTests
{
    [Fact]
    public void The_mock_api_binds_the_same_librdkafka_file_as_Confluent_Kafka()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Reads the process's memory map from /proc.");
        _ = Library.Version; // makes Confluent.Kafka load its librdkafka
        _ = Librdkafka.Instance.Version;

        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(5).FirstOrDefault())
            .Where(path => path?.Contains("librdkafka", StringComparison.Ordinal) == true)
            .Distinct();

        Assert.Single(mapped);
    }
}
