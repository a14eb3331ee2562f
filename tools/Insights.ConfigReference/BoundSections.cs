using Insights.Dashboards;
using Insights.QueryApi.Accounts;
using Insights.Ingest;
using Insights.Processors;
using Insights.QueryApi;
using Insights.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Insights.ConfigReference;

/// <summary>One options type bound to one configuration section, and the services that bind it.</summary>
internal sealed record BoundSection(string Path, Type OptionsType, IReadOnlyList<string> Services)
{
    /// <summary>A section bound to a list (<c>Sites</c>) holds one object per index: <c>Sites:0:Id</c>.</summary>
    public Type? ElementType =>
        OptionsType.IsGenericType && OptionsType.GetGenericTypeDefinition() == typeof(List<>) ? OptionsType.GetGenericArguments()[0] : null;

    /// <summary>The class whose properties are the section's keys.</summary>
    public Type SettingsType => ElementType ?? OptionsType;
}

/// <summary>
/// Which sections each service binds, found by running the service's own registration (what its Program.cs calls)
/// rather than from a list kept by hand: a section a service starts binding appears in the reference by itself.
/// </summary>
internal static class BoundSections
{
    /// <summary>The services and their registrations, as each Program.cs calls them.</summary>
    public static IReadOnlyList<(string Name, Action<WebApplicationBuilder> Register)> Services { get; } =
    [
        ("ingest", builder => builder.AddServiceDefaults().AddIngest()),
        ("processors", builder => builder.AddServiceDefaults().AddProcessors()),
        ("query-api", builder => builder.AddServiceDefaults().AddQueryApiServices().AddAccounts()),
        ("dashboards", builder => builder.AddServiceDefaults().AddDashboards()),
    ];

    /// <summary>Every section an Insights options type is bound to, ordered by section then type.</summary>
    public static IReadOnlyList<BoundSection> FindAll()
    {
        var found = new Dictionary<(string Path, Type Type), SortedSet<string>>();
        var alsoRead = new List<(string Service, string Path)>();
        foreach (var (name, register) in Services)
        {
            var (bound, read) = Find(register);
            foreach (var key in bound)
            {
                if (!found.TryGetValue(key, out var services))
                {
                    found[key] = services = new(StringComparer.Ordinal);
                }

                services.Add(name);
            }

            alsoRead.AddRange(read.Select(path => (name, path)));
        }

        // A section a service reads without binding it (the processors read Sites for the attribution rules) is
        // described by the class another service binds it to.
        foreach (var (service, path) in alsoRead)
        {
            var owners = found.Where(f => f.Key.Path == path).ToList();
            if (owners.Count == 0)
            {
                throw new InvalidOperationException($"{service} reads section {path}, which no service binds to an options class.");
            }

            owners.ForEach(o => o.Value.Add(service));
        }

        return [.. found
            .Select(f => new BoundSection(f.Key.Path, f.Key.Type, [.. f.Value]))
            .OrderBy(s => s.Path, StringComparer.Ordinal)
            .ThenBy(s => s.OptionsType.FullName, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The (section, type) pairs one registration binds. <c>OptionsBuilder.Bind(section)</c> registers a
    /// <see cref="NamedConfigureFromConfigurationOptions{TOptions}"/>; running it against a configuration that
    /// records which paths are read reveals the section it was given.
    /// </summary>
    private static (List<(string Path, Type Type)> Bound, List<string> AlsoRead) Find(Action<WebApplicationBuilder> register)
    {
        var recorder = new RecordingSource();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        ((IConfigurationBuilder)builder.Configuration).Add(recorder);
        register(builder);

        var bound = new List<(string Path, Type Type)>();
        foreach (var descriptor in builder.Services)
        {
            if (OptionsTypeOf(descriptor, typeof(IConfigureOptions<>)) is not { } type
                || descriptor.ImplementationInstance!.GetType() is not { IsGenericType: true } configure
                || configure.GetGenericTypeDefinition() != typeof(NamedConfigureFromConfigurationOptions<>))
            {
                continue;
            }

            var paths = Recording(recorder, () => descriptor.ServiceType.GetMethod(nameof(IConfigureOptions<object>.Configure))!
                .Invoke(descriptor.ImplementationInstance, [Activator.CreateInstance(type)]));
            var path = paths.MinBy(p => p.Length) ?? throw new InvalidOperationException($"{type}: bound, but binding it read no configuration section");
            if (!bound.Contains((path, type)))
            {
                bound.Add((path, type));
            }
        }

        // Validators built with the configuration may read other sections (the attribution rules of every site).
        var alsoRead = new List<string>();
        foreach (var descriptor in builder.Services)
        {
            if (OptionsTypeOf(descriptor, typeof(IValidateOptions<>)) is not { } type)
            {
                continue;
            }

            var paths = Recording(recorder, () => descriptor.ServiceType.GetMethod(nameof(IValidateOptions<object>.Validate))!
                .Invoke(descriptor.ImplementationInstance, [Options.DefaultName, Activator.CreateInstance(type)]));
            alsoRead.AddRange(paths.Where(p => !p.Contains(':', StringComparison.Ordinal) && !bound.Any(b => b.Path == p && b.Type == type)));
        }

        return (bound, [.. alsoRead.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>The Insights options type of a registered instance of <paramref name="service"/> (an open generic).</summary>
    private static Type? OptionsTypeOf(ServiceDescriptor descriptor, Type service) =>
        descriptor is { ServiceType.IsGenericType: true, ImplementationInstance: not null }
        && descriptor.ServiceType.GetGenericTypeDefinition() == service
        && descriptor.ServiceType.GetGenericArguments()[0] is var type
        && IsInsightsType(type)
            ? type
            : null;

    private static List<string> Recording(RecordingSource recorder, Action action)
    {
        recorder.Provider.Paths.Clear();
        action();
        return [.. recorder.Provider.Paths.OfType<string>()];
    }

    private static bool IsInsightsType(Type type) =>
        (type.IsGenericType ? type.GetGenericArguments()[0] : type).Namespace?.StartsWith("Insights.", StringComparison.Ordinal) == true;

    /// <summary>An empty configuration that remembers the paths whose children were asked for.</summary>
    private sealed class RecordingSource : IConfigurationSource
    {
        public RecordingProvider Provider { get; } = new();

        public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
    }

    private sealed class RecordingProvider : IConfigurationProvider
    {
        public List<string?> Paths { get; } = [];

        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            Paths.Add(parentPath);
            return earlierKeys;
        }

        public IChangeToken GetReloadToken() => new CancellationChangeToken(CancellationToken.None);

        public void Load()
        {
        }

        public void Set(string key, string? value)
        {
        }

        public bool TryGet(string key, out string? value)
        {
            value = null;
            return false;
        }
    }
}
