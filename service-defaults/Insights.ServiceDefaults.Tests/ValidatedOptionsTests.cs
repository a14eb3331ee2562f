using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Insights.ServiceDefaults.Tests;

public sealed class ValidatedOptionsTests
{
    private static Dictionary<string, string?> ValidSettings() => new()
    {
        ["Ingest:MaxBatchEvents"] = "250",
        ["Ingest:ClickHouseUrl"] = "http://127.0.0.1:8123",
        ["Ingest:KeySalt"] = "0123456789abcdef0123",
        ["Ingest:flush_interval_ms"] = "200",
        ["Ingest:MaxWaitMs"] = "1000",
    };

    [Fact]
    public async Task Valid_settings_start_the_host_and_are_bound()
    {
        await using var host = await TestHost.StartAsync(AddIngestOptions, settings: ValidSettings());

        var options = host.App.Services.GetRequiredService<IOptions<IngestOptions>>().Value;
        Assert.Equal(250, options.MaxBatchEvents);
        Assert.Equal(200, options.FlushIntervalMs);
    }

    [Fact]
    public async Task An_out_of_range_setting_stops_start_naming_the_full_key_and_the_value()
    {
        var settings = ValidSettings();
        settings["Ingest:MaxBatchEvents"] = "0";

        var error = await StartFailureAsync(settings);

        Assert.Equal("Ingest:MaxBatchEvents must be between 1 and 5000, got 0", error.Message);
    }

    [Fact]
    public async Task Every_bad_setting_is_reported_at_once()
    {
        var settings = ValidSettings();
        settings.Remove("Ingest:KeySalt");
        settings["Ingest:ClickHouseUrl"] = "localhost:8123";

        var error = await StartFailureAsync(settings);

        Assert.Equal(
            ["Ingest:ClickHouseUrl is not a valid fully-qualified http, https, or ftp URL, got \"localhost:8123\"", "Ingest:KeySalt is required"],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_secret_is_named_but_its_value_is_not_printed()
    {
        var settings = ValidSettings();
        settings["Ingest:KeySalt"] = "hunter2";

        var error = await StartFailureAsync(settings);

        Assert.StartsWith("Ingest:KeySalt", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_renamed_key_is_reported_as_it_is_spelled_in_configuration()
    {
        var settings = ValidSettings();
        settings["Ingest:flush_interval_ms"] = "-5";

        var error = await StartFailureAsync(settings);

        Assert.Equal("Ingest:flush_interval_ms must be between 1 and 60000, got -5", error.Message);
    }

    [Fact]
    public async Task A_custom_validator_failure_is_reported_with_the_annotation_failures()
    {
        var settings = ValidSettings();
        settings["Ingest:flush_interval_ms"] = "5000";
        settings["Ingest:MaxBatchEvents"] = "9000";

        var error = await StartFailureAsync(settings);

        Assert.Equal(
            ["Ingest:MaxBatchEvents must be between 1 and 5000, got 9000", "Ingest:flush_interval_ms (5000) must be shorter than Ingest:MaxWaitMs (1000)"],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_nested_section_is_named_by_its_full_path()
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (key, value) in ValidSettings())
        {
            settings["Insights:" + key] = value;
        }

        settings["Insights:Ingest:MaxBatchEvents"] = "0";
        await using var app = TestHost.Build(
            builder => builder.Services.AddValidatedOptions<IngestOptions>(builder.Configuration.GetSection("Insights"), "Ingest"),
            settings: settings);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("Insights:Ingest:MaxBatchEvents must be between 1 and 5000, got 0", error.Message);
    }

    [Fact]
    public async Task A_rule_on_the_whole_object_runs_once_the_members_are_valid_and_names_its_key()
    {
        await using var app = TestHost.Build(
            builder => builder.Services.AddValidatedOptions<RetentionOptions>(builder.Configuration, "Retention"),
            settings: new Dictionary<string, string?> { ["Retention:RawDays"] = "90", ["Retention:RollupDays"] = "30" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("Retention:RollupDays: must be at least RawDays", error.Message);
    }

    private static void AddIngestOptions(WebApplicationBuilder builder) =>
        builder.Services.AddValidatedOptions<IngestOptions, IngestOptionsValidator>(builder.Configuration, "Ingest");

    private static async Task<OptionsValidationException> StartFailureAsync(Dictionary<string, string?> settings)
    {
        await using var app = TestHost.Build(AddIngestOptions, settings: settings);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));
    }

    public sealed class IngestOptions
    {
        [Range(1, 5000)]
        public int MaxBatchEvents { get; set; } = 500;

        [Required, Url]
        public string? ClickHouseUrl { get; set; }

        [Required, MinLength(16), DataType(DataType.Password)]
        public string? KeySalt { get; set; }

        [ConfigurationKeyName("flush_interval_ms"), Range(1, 60_000)]
        public int FlushIntervalMs { get; set; } = 1000;

        [Range(1, 600_000)]
        public int MaxWaitMs { get; set; } = 5000;
    }

    public sealed class RetentionOptions : IValidatableObject
    {
        [Range(1, 3650)]
        public int RawDays { get; set; }

        [Range(1, 3650)]
        public int RollupDays { get; set; }

        public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
        {
            if (RollupDays < RawDays)
            {
                yield return new ValidationResult("must be at least RawDays", [nameof(RollupDays)]);
            }
        }
    }

    private sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
    {
        public ValidateOptionsResult Validate(string? name, IngestOptions options) =>
            options.FlushIntervalMs < options.MaxWaitMs
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"Ingest:flush_interval_ms ({options.FlushIntervalMs}) must be shorter than Ingest:MaxWaitMs ({options.MaxWaitMs})");
    }
}
