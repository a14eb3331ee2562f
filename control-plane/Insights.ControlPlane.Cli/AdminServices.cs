using Insights.ControlPlane.Model;
using Insights.ControlPlane.People;
using Insights.ServiceDefaults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli;

/// <summary>
/// The CLI's services: the control plane exactly as the services register it (<c>AddControlPlane</c>: the same
/// settings, provider and data-access layer), its operations, and the console. Nothing is started: no seeding, no
/// directory; each command opens the store, does one thing and exits.
/// </summary>
internal static class AdminServices
{
    public static ITypeRegistrar Create()
    {
        var root = Directory.GetCurrentDirectory();
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder()
            .SetBasePath(root)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .Build();

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<IHostEnvironment>(new CliEnvironment(environment, root));
        services.AddLogging();
        services.AddControlPlane(configuration);
        services.AddValidatedOptions<PeopleOptions>(configuration, PeopleOptions.Section);
        services.AddSingleton<IPasswordHasher<Person>, PasswordHasher<Person>>();
        services.AddSingleton<AdminStore>();
        services.AddSingleton(Actor.Cli(Environment.UserName is { Length: > 0 } user ? user : "unknown"));
        services.AddSingleton(Console());
        return new ServiceRegistrar(services);
    }

    /// <summary>Plain output when redirected (scripts, tests): no colours, and wide enough that tables never wrap ids.</summary>
    private static IAnsiConsole Console()
    {
        var console = AnsiConsole.Console;
        if (System.Console.IsOutputRedirected)
        {
            console.Profile.Width = 240;
        }

        return console;
    }

    private sealed class CliEnvironment(string name, string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "insights-admin";

        public string ContentRootPath { get; set; } = root;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    /// <summary>Spectre's commands resolved from the same container as everything else.</summary>
    private sealed class ServiceRegistrar(IServiceCollection services) : ITypeRegistrar
    {
        public void Register(Type service, Type implementation) => services.AddSingleton(service, implementation);

        public void RegisterInstance(Type service, object implementation) => services.AddSingleton(service, implementation);

        public void RegisterLazy(Type service, Func<object> factory) => services.AddSingleton(service, _ => factory());

        public ITypeResolver Build() => new Resolver(services.BuildServiceProvider());
    }

    private sealed class Resolver(ServiceProvider provider) : ITypeResolver, IDisposable
    {
        public object? Resolve(Type? type) => type is null ? null : provider.GetService(type);

        public void Dispose() => provider.Dispose();
    }
}
