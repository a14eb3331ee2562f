using Insights.ControlPlane.Cli;
using Insights.ControlPlane.Cli.Commands;
using Spectre.Console.Cli;

// insights-admin: the control plane from a shell. Settings as the services read them: ControlPlane:* from
// appsettings.json in the current directory and the environment (ControlPlane__ConnectionString=...).
var app = new CommandApp(AdminServices.Create());
app.Configure(config =>
{
    config.SetApplicationName("insights-admin");
    config.SetExceptionHandler(AdminErrors.Handle);

    config.AddCommand<InitCommand>("init")
        .WithDescription("Prepare a fresh install: apply the migrations, create the first partner and invite its admin.")
        .WithExample("init", "--partner", "Agency", "--email", "admin@agency.example", "--base-url", "https://insights.agency.example");
    config.AddBranch("partners", partners =>
    {
        partners.SetDescription("Partners (agencies).");
        partners.AddCommand<ListPartnersCommand>("list").WithDescription("List partners with their client count.");
    });
    config.AddBranch("orgs", orgs =>
    {
        orgs.SetDescription("Client organisations.");
        orgs.AddCommand<ListOrganisationsCommand>("list").WithDescription("List organisations and who manages them.");
        orgs.AddCommand<CreateOrganisationCommand>("create").WithDescription("Create an organisation, managed by a partner or directly.");
    });
    config.AddBranch("sites", sites =>
    {
        sites.SetDescription("Sites.");
        sites.AddCommand<ListSitesCommand>("list").WithDescription("List sites with their organisation and working keys.");
        sites.AddCommand<CreateSiteCommand>("create").WithDescription("Create a site with the default goals and its three keys (printed once).");
    });
    config.AddBranch("keys", keys =>
    {
        keys.SetDescription("Site keys.");
        keys.AddCommand<ListKeysCommand>("list").WithDescription("List a site's keys (hints only; keys are never shown again).");
        keys.AddCommand<RotateKeyCommand>("rotate").WithDescription("Replace a key with a new one (printed once); the old one stops after --grace.");
        keys.AddCommand<RevokeKeyCommand>("revoke").WithDescription("Stop a key everywhere within seconds.");
    });
    config.AddBranch("people", people =>
    {
        people.SetDescription("People and invitations.");
        people.AddCommand<ListPeopleCommand>("list").WithDescription("List people with their roles, and pending invitations.");
    });
    config.AddBranch("events", events =>
    {
        events.SetDescription("Events: import an NDJSON export into a site, replay a time range of the raw topic.");
        events.AddCommand<ImportEventsCommand>("import")
            .WithDescription("Import an NDJSON file into a site through ingest, with its server key; re-runs count each event once.")
            .WithExample("events", "import", "export.ndjson", "--site", "shop", "--checkpoint", "export.ndjson.checkpoint");
        events.AddCommand<ReplayEventsCommand>("replay")
            .WithDescription("Re-process a time range of the raw topic through the processors (e.g. after an enrichment fix); rows are replaced, not doubled.")
            .WithExample("events", "replay", "--from", "2026-12-01T00:00Z", "--to", "2026-12-02T00:00Z", "--site", "shop", "--dry-run");
    });
    config.AddBranch("audit", audit =>
    {
        audit.SetDescription("The audit log.");
        audit.AddCommand<AuditTailCommand>("tail").WithDescription("The latest changes, oldest first.");
    });
});

return await app.RunAsync(args);
