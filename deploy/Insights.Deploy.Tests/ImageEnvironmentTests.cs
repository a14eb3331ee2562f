using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Insights.DevStack.Testing;

namespace Insights.Deploy.Tests;

/// <summary>
/// What the images' <c>ENV</c> does to the services, tried on this machine's own builds (no Docker here): each service,
/// started with its Dockerfile's environment (only the port moved to a free one), must answer <c>/healthz</c> on an
/// address other than loopback, as a container must for its port mapping and probes. The services' appsettings.json
/// bind to 127.0.0.1, and not every way of naming the address overrides that (ASPNETCORE_URLS does not).
/// </summary>
public sealed partial class ImageEnvironmentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("deploy/docker/ingest.Dockerfile", "Insights.Ingest")]
    [InlineData("deploy/docker/processors.Dockerfile", "Insights.Processors")]
    [InlineData("deploy/docker/query-api.Dockerfile", "Insights.QueryApi")]
    public async Task A_service_started_with_its_Dockerfile_environment_answers_health_checks_from_outside_loopback(string dockerfile, string project)
    {
        var environment = DockerfileEnvironment(Repository.Read(dockerfile));
        Assert.True(environment.ContainsKey("URLS"), $"{dockerfile} sets no listen address");
        var port = TestProcess.FreePorts(1)[0];
        var start = TestProcessStart.Dotnet(project);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value.Replace(":8080", $":{port}", StringComparison.Ordinal);
        }

        // Engines that are not there: liveness must not depend on them.
        start.Environment["ControlPlane__DataDirectory"] = Directory.CreateTempSubdirectory("insights-image-env-").FullName;
        start.Environment["Kafka__BootstrapServers"] = "127.0.0.1:1";
        start.Environment["Live__BootstrapServers"] = "127.0.0.1:1";
        start.Environment["ClickHouse__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=default;Password=";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        await using var service = TestProcess.Start(start);

        var outside = NonLoopbackAddress();
        await service.WaitUntilHealthyAsync(new Uri($"http://{outside}:{port}"), "/healthz", TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task Behind_a_TLS_proxy_the_query_API_as_deployed_serves_sign_in_and_an_unproxied_request_does_not_pass_for_https()
    {
        // What compose and the manifests give the query API about the proxy in front.
        const string variable = "ASPNETCORE_FORWARDEDHEADERS_ENABLED";
        var compose = YamlDocuments.Load("deploy/compose/compose.yaml").Single()["services"]!["query-api"]!["environment"]![variable]?.GetValue<string>();
        var manifest = YamlDocuments.Load("deploy/kubernetes/query-api.yaml").First()["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray()
            .SingleOrDefault(e => e!["name"]!.GetValue<string>() == variable)?["value"]?.GetValue<string>();
        Assert.Equal("true", compose);
        Assert.Equal("true", manifest);

        var port = TestProcess.FreePorts(1)[0];
        var start = TestProcessStart.Dotnet("Insights.QueryApi");
        start.Environment[variable] = compose;
        start.Environment["URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production"; // Secure cookies, as deployed
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["HOME"] = Directory.CreateTempSubdirectory("insights-image-home-").FullName;
        start.Environment["ControlPlane__DataDirectory"] = Directory.CreateTempSubdirectory("insights-image-env-").FullName;
        start.Environment["Live__BootstrapServers"] = "127.0.0.1:1";
        start.Environment["ClickHouse__ConnectionString"] = "Host=127.0.0.1;Port=1;Username=default;Password=";
        start.Environment["Logging__LogLevel__Default"] = "Critical";
        await using var service = TestProcess.Start(start);
        var address = new Uri($"http://127.0.0.1:{port}");
        await service.WaitUntilHealthyAsync(address, "/healthz", TimeSpan.FromSeconds(120));

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        using var proxied = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/auth/csrf", UriKind.Relative));
        proxied.Headers.Add("X-Forwarded-Proto", "https");
        using var answer = await http.SendAsync(proxied, Ct);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync(Ct)}");
        Assert.Contains(answer.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));

        // Without the proxy's word the request is plain HTTP: no Secure cookie is handed out over it, and the answer says
        // why (400 https_required, not a 500 from the antiforgery service).
        using var direct = await http.GetAsync(new Uri("/v1/auth/csrf", UriKind.Relative), Ct);
        var refusal = await direct.Content.ReadAsStringAsync(Ct);
        Assert.True(direct.StatusCode == HttpStatusCode.BadRequest, $"{direct.StatusCode}: {refusal}");
        Assert.Contains("\"https_required\"", refusal, StringComparison.Ordinal);
        Assert.False(direct.Headers.Contains("Set-Cookie"));
    }

    /// <summary>The runtime stage's ENV assignments (the last stage: what the container runs with).</summary>
    private static Dictionary<string, string> DockerfileEnvironment(string dockerfile)
    {
        var runtime = dockerfile[dockerfile.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];
        var joined = runtime.Replace("\\\n", " ", StringComparison.Ordinal);
        return EnvLine().Matches(joined)
            .SelectMany(m => Assignment().Matches(m.Groups[1].Value))
            .ToDictionary(a => a.Groups[1].Value, a => a.Groups[2].Value);
    }

    private static string NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString()
        ?? throw new InvalidOperationException("This machine has no IPv4 address besides loopback to try the listen address from.");

    [GeneratedRegex(@"(?m)^ENV (.+)$")]
    private static partial Regex EnvLine();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(\S+)")]
    private static partial Regex Assignment();
}
