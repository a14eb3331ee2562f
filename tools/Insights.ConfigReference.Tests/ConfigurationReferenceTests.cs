using System.Reflection;
using Insights.ConfigReference;

namespace Insights.ConfigReference.Tests;

public sealed class ConfigurationReferenceTests
{
    private static readonly IReadOnlyList<BoundSection> Sections = BoundSections.FindAll();

    [Fact]
    public void The_committed_page_is_what_the_options_classes_generate()
    {
        var path = Path.Combine(RepositoryRoot.Find(), ReferencePage.RelativePath);
        var committed = File.Exists(path) ? File.ReadAllText(path) : "";
        var generated = ReferencePage.Render(Sections);

        if (committed != generated)
        {
            var committedLines = committed.Split('\n');
            var generatedLines = generated.Split('\n');
            var first = Enumerable.Range(0, Math.Max(committedLines.Length, generatedLines.Length))
                .First(i => i >= committedLines.Length || i >= generatedLines.Length || committedLines[i] != generatedLines[i]);
            Assert.Fail(
                $"{ReferencePage.RelativePath} is out of date with the options classes; regenerate it with `{ReferencePage.Command}`.\n" +
                $"First difference at line {first + 1}:\n" +
                $"  committed: {(first < committedLines.Length ? committedLines[first] : "(end of file)")}\n" +
                $"  generated: {(first < generatedLines.Length ? generatedLines[first] : "(end of file)")}");
        }
    }

    /// <summary>
    /// Every class named *Options in the services' assemblies is either a section some service binds or a part of
    /// one (a nested object, a list item, a base class). A new options class that no service binds fails here, and
    /// once bound it appears in the page by itself.
    /// </summary>
    [Fact]
    public void Every_options_class_of_the_services_is_in_the_reference()
    {
        var covered = Sections.SelectMany(Settings.TypesOf).ToHashSet();
        var assemblies = Sections.Select(s => s.SettingsType.Assembly)
            .Concat(ServiceAssemblies())
            .Distinct();

        var missing = assemblies
            .SelectMany(a => a.GetTypes())
            // Insights' own types: a generated or third-party class (the mediator's) is configured in code, not by a key.
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace?.StartsWith("Insights.", StringComparison.Ordinal) == true && t.Name.EndsWith("Options", StringComparison.Ordinal) && !covered.Contains(t))
            .Select(t => t.FullName)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(missing.Count == 0,
            $"Options classes no service binds from configuration, so the reference cannot list them: {string.Join(", ", missing)}. " +
            $"Bind them with AddValidatedOptions in the service's registration, then run `{ReferencePage.Command}`.");
    }

    [Fact]
    public void Every_service_assembly_holding_options_writes_its_xml_docs()
    {
        // Without the XML file the page would silently lose every description of that assembly.
        foreach (var assembly in ServiceAssemblies())
        {
            Assert.True(File.Exists(Path.ChangeExtension(assembly.Location, ".xml")),
                $"{assembly.GetName().Name} has no XML documentation file; set GenerateDocumentationFile in its project.");
        }
    }

    [Fact]
    public void Every_setting_says_what_it_does()
    {
        var silent = Sections.SelectMany(Settings.Of).Where(s => s.Description.Length == 0).Select(s => s.Key).ToList();

        Assert.True(silent.Count == 0, $"Settings without a /// summary (what it does, and for a tuning setting what it trades): {string.Join(", ", silent)}");
    }

    [Fact]
    public void Sections_carry_the_keys_services_name_in_their_start_up_errors()
    {
        var keys = Sections.SelectMany(Settings.Of).Select(s => s.Key).ToHashSet(StringComparer.Ordinal);

        // The keys the README and the start-up validation messages tell an operator to set.
        Assert.Contains("Ingest:MaxBatchEvents", keys);
        Assert.Contains("Kafka:BootstrapServers", keys);
        Assert.Contains("Sites:n:Id", keys);
        Assert.Contains("Sites:n:Goals:n:Kind", keys);
        Assert.Contains("Enrichment:ReverseDns:TimeoutMilliseconds", keys);
        Assert.Contains("Processors:GroupId", keys);
        Assert.Equal(["ingest", "processors", "query-api"], Sections.Single(s => s.Path == "Sites").Services);
        Assert.Equal(["processors", "query-api"], Sections.Single(s => s.Path == "ClickHouse").Services);
    }

    [Fact]
    public void Defaults_come_from_a_fresh_instance_and_rules_from_the_validation_attributes()
    {
        var processors = Settings.Of(Sections.Single(s => s.Path == "Processors"));
        var attribution = Settings.Of(Sections.Single(s => s.Path == "Attribution"));

        // An inherited key with the group's own default set in its constructor, and a key's own initializer.
        Assert.Equal("`insights-processors`", processors.Single(s => s.Key == "Processors:GroupId").Default);
        Assert.Equal("`50000`", processors.Single(s => s.Key == "Processors:BatchMaxEvents").Default);
        Assert.Equal("1 – 1,000,000", processors.Single(s => s.Key == "Processors:BatchMaxEvents").Rules);
        Assert.Equal("`insights-attribution`", attribution.Single(s => s.Key == "Attribution:GroupId").Default);
        Assert.Equal("10 – 1,000,000", attribution.Single(s => s.Key == "Attribution:MaxComponentNodes").Rules);
        Assert.StartsWith("required", processors.Single(s => s.Key == "Processors:Topic").Rules, StringComparison.Ordinal);
    }

    private static IEnumerable<Assembly> ServiceAssemblies() =>
        new[]
        {
            typeof(Insights.Ingest.IngestOptions), typeof(Insights.Processors.ProcessorOptions), typeof(Insights.Attribution.AttributionOptions),
            typeof(Insights.Enrichment.EnrichmentOptions), typeof(Insights.Processors.Consuming.KafkaOptions), typeof(Insights.QueryApi.QueryApiOptions),
            typeof(Insights.Storage.ClickHouseStorageOptions), typeof(Insights.Contracts.SiteOptions), typeof(Insights.ServiceDefaults.ServiceHost),
        }.Select(t => t.Assembly);
}
