using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Xunit;

namespace Insights.ServiceDefaults.Tests;

/// <summary>Renders a log line with the console formatter the host would write it with.</summary>
public sealed class ConsoleLoggingTests
{
    [Fact]
    public async Task Outside_Development_a_log_line_is_one_JSON_object_with_scopes_and_a_UTC_timestamp()
    {
        await using var app = TestHost.Build(environment: "Production");

        var line = Render(app.Services);

        Assert.Single(line.TrimEnd('\n').Split('\n'));
        using var json = JsonDocument.Parse(line);
        var entry = json.RootElement;
        Assert.Equal("Warning", entry.GetProperty("LogLevel").GetString());
        Assert.Equal("batch 42 flushed", entry.GetProperty("Message").GetString());
        Assert.Equal("tenant acme", entry.GetProperty("Scopes")[0].GetString());
        var timestamp = entry.GetProperty("Timestamp").GetString();
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", timestamp);
        Assert.InRange(DateTimeOffset.Parse(timestamp!, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task In_Development_a_log_line_is_plain_text_with_scopes()
    {
        await using var app = TestHost.Build(environment: "Development");

        var line = Render(app.Services);

        Assert.Single(line.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^\d{2}:\d{2}:\d{2}\.\d{3} warn: Insights\.Test\[7\] => tenant acme batch 42 flushed", line);
    }

    [Fact]
    public async Task A_configured_formatter_wins_over_the_default()
    {
        await using var app = TestHost.Build(
            environment: "Production",
            settings: new Dictionary<string, string?> { ["Logging:Console:FormatterName"] = ConsoleFormatterNames.Systemd });

        var line = Render(app.Services);

        // systemd's journal reads the priority from the <N> prefix; 4 is warning.
        Assert.StartsWith("<4>Insights.Test[7]", line, StringComparison.Ordinal);
    }

    private static string Render(IServiceProvider services)
    {
        var formatterName = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == formatterName);

        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push("tenant acme");
        var entry = new LogEntry<string>(LogLevel.Warning, "Insights.Test", new EventId(7, "Flushed"), "batch 42 flushed", null, (state, _) => state);
        using var writer = new StringWriter();
        formatter.Write(entry, scopes, writer);
        return writer.ToString();
    }
}
