using System.Net;
using System.Net.Sockets;

namespace Insights.DevStack.Kafka;

/// <summary>
/// Listens on a fixed loopback port and relays each connection to the first mock broker that
/// accepts it. Only bootstrap traffic passes here: clients learn the brokers' own addresses from
/// metadata and connect to them directly.
/// </summary>
internal sealed class BootstrapForwarder : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly IReadOnlyList<IPEndPoint> _brokers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    // Every relay still running; the accept loop prunes finished ones and Dispose waits for the rest.
    private readonly List<Task> _relays = [];
    private readonly Task _acceptLoop;
    private int _disposed;

    private BootstrapForwarder(Socket listener, IReadOnlyList<IPEndPoint> brokers, ILogger logger)
    {
        _listener = listener;
        _brokers = brokers;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Binds 127.0.0.1:<paramref name="port"/> (0 = any free port) and starts relaying.</summary>
    public static BootstrapForwarder Start(int port, IReadOnlyList<IPEndPoint> brokers, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfZero(brokers.Count);
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(512);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new InvalidOperationException(
                $"Kafka:Port {port} cannot be bound on 127.0.0.1 ({e.SocketErrorCode}); is another dev stack running?", e);
        }
        return new BootstrapForwarder(listener, brokers, logger);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;

        _stopping.Cancel();
        _listener.Dispose();
        _acceptLoop.Wait(StopTimeout);
        Task[] pending;
        lock (_relays) pending = [.. _relays];
        if (!Task.WaitAll(pending, StopTimeout))
            _logger.LogWarning("Kafka bootstrap forwarder: {Count} connection(s) did not close within {Timeout}.",
                pending.Count(t => !t.IsCompleted), StopTimeout);
        _stopping.Dispose();
    }

    // Never faults: it ends on Dispose, or logs why it stopped accepting.
    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of file descriptors, or a client that reset before it was accepted: keep serving
                // the others, without spinning while the condition lasts.
                _logger.LogWarning("Kafka bootstrap forwarder: accept failed ({Error}).", e.SocketErrorCode);
                try
                {
                    await Task.Delay(100, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Kafka bootstrap forwarder stopped accepting connections on {EndPoint}.", LocalEndPoint);
                return;
            }

            var relay = RelayAsync(client);
            lock (_relays)
            {
                _relays.RemoveAll(t => t.IsCompleted);
                _relays.Add(relay);
            }
        }
    }

    // Never faults: whatever goes wrong ends this one connection and is logged here.
    private async Task RelayAsync(Socket client)
    {
        try
        {
            using var _ = client;
            client.NoDelay = true;
            using var broker = await ConnectToBrokerAsync();
            if (broker is null) return;

            using var relay = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var up = PumpAsync(client, broker, relay.Token);
            var down = PumpAsync(broker, client, relay.Token);
            // Kafka has no half-closed conversations: when either side hangs up, the relay is over.
            await Task.WhenAny(up, down);
            await relay.CancelAsync();
            await Task.WhenAll(up, down);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Kafka bootstrap forwarder: a relayed connection failed.");
        }
    }

    private async Task<Socket?> ConnectToBrokerAsync()
    {
        // The brokers in id order, so a client still reaches the cluster while broker 1 is set down.
        foreach (var endPoint in _brokers)
        {
            var broker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await broker.ConnectAsync(endPoint, _stopping.Token);
                return broker;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                broker.Dispose();
                if (_stopping.IsCancellationRequested) return null;
            }
        }
        _logger.LogDebug("Kafka bootstrap forwarder: no broker accepted a connection; closing the client's.");
        return null;
    }

    private async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0) return;
                for (var sent = 0; sent < read;)
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The other direction ended or the forwarder is stopping.
        }
        catch (SocketException e)
        {
            _logger.LogDebug("Kafka bootstrap forwarder: connection ended ({Error}).", e.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // Disposed under us during shutdown.
        }
    }
}
