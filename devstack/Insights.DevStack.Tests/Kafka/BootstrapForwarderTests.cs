using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Insights.DevStack.Kafka;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Insights.DevStack.Tests.Kafka;

/// <summary>
/// The fixed bootstrap port. Each test binds its own free port so a dev stack running on 9092 is
/// left alone.
/// </summary>
public sealed class BootstrapForwarderTests
{
    [Fact]
    public async Task Clients_bootstrapping_through_the_fixed_port_produce_and_consume()
    {
        var port = TestProcess.FreePorts(1)[0];
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = port, Topics = [] }, NullLogger.Instance);
        Assert.Equal($"127.0.0.1:{port}", cluster.BootstrapServers);
        Assert.DoesNotContain($":{port}", cluster.BrokerAddresses, StringComparison.Ordinal);

        var topic = KafkaTest.UniqueName("forwarded");
        cluster.CreateTopic(topic, 2);
        using (var producer = KafkaTest.Producer(cluster.BootstrapServers))
        {
            for (var i = 0; i < 10; i++)
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" },
                    TestContext.Current.CancellationToken);
        }
        using var consumer = KafkaTest.Consumer(cluster.BootstrapServers, KafkaTest.UniqueName("forwarded-reader"));
        consumer.Subscribe(topic);
        var received = KafkaTest.ConsumeToEnd(consumer, 10);
        consumer.Close();

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"k{i}"), received.Select(r => r.Message.Key).Order());
    }

    [Fact]
    public void Start_fails_naming_the_setting_when_the_fixed_port_is_taken()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var error = Assert.Throws<InvalidOperationException>(() =>
            MockKafkaCluster.Start(new KafkaStackOptions { Port = port, Topics = [] }, NullLogger.Instance));

        Assert.Contains($"Kafka:Port {port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_broker_1_down_the_fixed_port_still_reaches_the_cluster()
    {
        var port = TestProcess.FreePorts(1)[0];
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = port, Brokers = 2, Topics = [] }, NullLogger.Instance);
        cluster.SetBrokerDown(1);

        using var admin = KafkaTest.Admin(cluster.BootstrapServers);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));

        Assert.Equal([2], metadata.Brokers.Select(b => b.BrokerId));
    }

    [Fact]
    public async Task Relays_many_concurrent_Kafka_conversations()
    {
        const int connections = 64;
        var port = TestProcess.FreePorts(1)[0];
        using var cluster = MockKafkaCluster.Start(new KafkaStackOptions { Port = port, Topics = [] }, NullLogger.Instance);
        var cancellationToken = TestContext.Current.CancellationToken;

        var sockets = await Task.WhenAll(Enumerable.Range(0, connections).Select(async correlationId =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            // Two round trips each, interleaved across all connections, must not cross wires.
            Assert.Equal(correlationId, await ApiVersionsAsync(socket, correlationId, cancellationToken));
            Assert.Equal(correlationId + connections, await ApiVersionsAsync(socket, correlationId + connections, cancellationToken));
            return socket;
        }));
        foreach (var socket in sockets) socket.Dispose();
    }

    [Fact]
    public async Task Dispose_closes_open_relays_and_frees_the_port()
    {
        // A target that accepts and then never says a word or hangs up, so only the forwarder can end these.
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var forwarder = BootstrapForwarder.Start(0, [(IPEndPoint)target.LocalEndpoint], NullLogger.Instance);
        var port = forwarder.LocalEndPoint.Port;
        var cancellationToken = TestContext.Current.CancellationToken;
        var clients = new List<Socket>();
        var accepted = new List<Socket>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                accepted.Add(await target.AcceptSocketAsync(cancellationToken));
            }

            var stopwatch = Stopwatch.StartNew();
            forwarder.Dispose();
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"Dispose took {stopwatch.Elapsed}.");

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            foreach (var socket in clients.Concat(accepted))
                Assert.Equal(0, await ReceiveOrResetAsync(socket, timeout.Token));
            using var rebound = new TcpListener(IPAddress.Loopback, port);
            rebound.Start();
        }
        finally
        {
            forwarder.Dispose();
            foreach (var socket in clients.Concat(accepted)) socket.Dispose();
        }
    }

    [Fact]
    public async Task A_client_is_hung_up_on_when_no_broker_accepts()
    {
        int closedPort;
        using (var unused = new TcpListener(IPAddress.Loopback, 0))
        {
            unused.Start();
            closedPort = ((IPEndPoint)unused.LocalEndpoint).Port;
        }
        using var forwarder = BootstrapForwarder.Start(0, [new IPEndPoint(IPAddress.Loopback, closedPort)], NullLogger.Instance);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));

        await client.ConnectAsync(forwarder.LocalEndPoint, timeout.Token);

        Assert.Equal(0, await ReceiveOrResetAsync(client, timeout.Token));
    }

    // ApiVersions v0, the first request every Kafka client sends; returns the response's correlation id.
    private static async Task<int> ApiVersionsAsync(Socket socket, int correlationId, CancellationToken cancellationToken)
    {
        var request = new byte[4 + 2 + 2 + 4 + 2];
        BinaryPrimitives.WriteInt32BigEndian(request, request.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(4), 18); // ApiKey: ApiVersions
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(6), 0); // ApiVersion
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), correlationId);
        BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(12), -1); // ClientId: null
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        var size = new byte[4];
        await ReceiveExactlyAsync(socket, size, cancellationToken);
        var response = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        await ReceiveExactlyAsync(socket, response, cancellationToken);
        return BinaryPrimitives.ReadInt32BigEndian(response);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            Assert.NotEqual(0, read);
            buffer = buffer[read..];
        }
    }

    // 0 when the peer closed the connection, whether with FIN or RST.
    private static async Task<int> ReceiveOrResetAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[1], SocketFlags.None, cancellationToken);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }
}
