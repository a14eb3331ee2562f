using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Insights.DevStack.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// The real ingest host (Program, configuration files, Kestrel on a free loopback port) producing to a topic of
/// its own on a dev stack's Kafka. Settings override configuration as environment variables would.
/// </summary>
public sealed class IngestHost : IAsyncDisposable
{
    public const string WriteKey = "demo-write-key-0001";
    public const string ServerKey = "demo-server-key-0001";
    public const string ReadKey = "demo-read-key-0001";

    private readonly WebApplicationFactory<Program> factory;

    private IngestHost(WebApplicationFactory<Program> factory, string kafkaBootstrap, string topic)
    {
        this.factory = factory;
        KafkaBootstrap = kafkaBootstrap;
        Topic = topic;
        // A real socket, so the peer address, chunked bodies and Kestrel's limits are what production sees.
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public HttpClient Client { get; }

    public string KafkaBootstrap { get; }

    public string Topic { get; }

    public IServiceProvider Services => factory.Services;

    public static IngestHost Start(string kafkaBootstrap, IReadOnlyDictionary<string, string?>? settings = null, string environment = "Development")
    {
        var topic = DevStackFixture.NewTopicName("ingest");
        var all = new Dictionary<string, string?>
        {
            // A free port instead of appsettings.json's 8080.
            ["Urls"] = "http://127.0.0.1:0",
            ["Kafka:BootstrapServers"] = kafkaBootstrap,
            ["Kafka:EventsTopic"] = topic,
            // Generous: the first delivery also waits for the connection and the producer id on a busy machine.
            ["Kafka:DeliveryTimeout"] = "00:00:20",
            ["Logging:LogLevel:Default"] = "Warning",
            [TestDataDirectories.Setting] = TestDataDirectories.New(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment(environment);
            foreach (var (key, value) in all)
            {
                web.UseSetting(key, value);
            }
        });
        factory.UseKestrel(0);
        factory.StartServer();
        return new IngestHost(factory, kafkaBootstrap, topic);
    }

    public Task<HttpResponseMessage> PostAsync(string body, string? key = WriteKey, string contentType = "application/json", string path = "/v1/events",
        Action<HttpRequestMessage>? configure = null) =>
        PostAsync(Encoding.UTF8.GetBytes(body), key, contentType, path, configure);

    public Task<HttpResponseMessage> PostAsync(byte[] body, string? key = WriteKey, string contentType = "application/json", string path = "/v1/events",
        Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (key is not null)
        {
            request.Headers.Add("X-Insights-Key", key);
        }

        configure?.Invoke(request);
        return Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await factory.DisposeAsync();
    }
}

/// <summary>What a client reads from an answer.</summary>
internal static class Answer
{
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();

    /// <summary>Asserts the status and that the body is a problem document with the given reason; returns the body.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status, string reason)
    {
        var body = await JsonAsync(response);
        Assert.True(status == (int)response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        Assert.Equal(reason, body.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("detail").GetString()));
        return body;
    }

    public static async Task<JsonElement> AcceptedAsync(HttpResponseMessage response, int accepted)
    {
        var body = await JsonAsync(response);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"Expected 202, got {(int)response.StatusCode}: {body}");
        Assert.Equal(accepted, body.GetProperty("accepted").GetInt32());
        return body;
    }

    public static List<(int Index, string Reason)> Rejections(JsonElement body) =>
        body.GetProperty("rejected").EnumerateArray().Select(r => (r.GetProperty("index").GetInt32(), r.GetProperty("reason").GetString()!)).ToList();
}
