using Insights.Contracts;

namespace Insights.Contracts.Tests;

/// <summary>Invitation rules as a site's settings check them: what could not be evaluated safely never gets stored.</summary>
public sealed class InvitationRuleValidationTests
{
    [Fact]
    public void A_well_formed_rule_set_passes()
    {
        var site = Site(new InvitationRule
        {
            Id = "pricing", Name = "Pricing, target account", Action = InvitationActions.AutoInvite, Message = "Fragen zum Preis? 価格",
            When = new InvitationCondition
            {
                All =
                [
                    new() { Kind = InvitationConditionKinds.TimeOnPage, Min = 30 },
                    new() { Any = [new() { Kind = InvitationConditionKinds.TargetAccount }, new() { Kind = InvitationConditionKinds.LeadScore, Min = 60 }] },
                    new() { Kind = InvitationConditionKinds.UrlFunnel, Patterns = ["/", "/pricing*"] },
                    new() { Kind = InvitationConditionKinds.Property, Property = "plan", Values = ["enterprise"] },
                ],
            },
        });

        Assert.Empty(SiteValidation.Check(site, "settings"));
    }

    [Theory]
    [InlineData("bad id", "Invitations:0:Id")]
    [InlineData("agent", "'agent' is reserved")]
    public void Ids_are_slugs_and_agent_is_reserved(string id, string expected)
    {
        var problems = SiteValidation.Check(Site(new InvitationRule { Id = id, Name = "x" }), "settings").ToList();
        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Hostile_and_oversized_rules_are_refused_with_a_reason_each()
    {
        var deep = new InvitationCondition { Kind = InvitationConditionKinds.CompanyIdentified };
        for (var i = 0; i < 6; i++)
        {
            deep = new InvitationCondition { All = [deep] };
        }

        var rules = new[]
        {
            new InvitationRule { Id = "a", Name = "auto without message", Action = InvitationActions.AutoInvite },
            new InvitationRule { Id = "b", Name = "long", Action = InvitationActions.AutoInvite, Message = new string('x', 501) },
            new InvitationRule { Id = "c", Name = "kind", When = new() { Kind = "rm -rf" } },
            new InvitationRule { Id = "d", Name = "deep", When = deep },
            new InvitationRule { Id = "e", Name = "many", When = new() { Any = [.. Enumerable.Range(0, 40).Select(_ => new InvitationCondition { Kind = InvitationConditionKinds.ExitIntent })] } },
            new InvitationRule { Id = "f", Name = "pattern", When = new() { Kind = InvitationConditionKinds.CurrentUrl, Pattern = "/a b\u0000" } },
            new InvitationRule { Id = "g", Name = "no min", When = new() { Kind = InvitationConditionKinds.TimeOnSite } },
            new InvitationRule { Id = "h", Name = "dates", ActiveFrom = DateTimeOffset.UnixEpoch.AddDays(2), ActiveUntil = DateTimeOffset.UnixEpoch },
            new InvitationRule { Id = "i", Name = "action", Action = "spam" },
            new InvitationRule { Id = "j", Name = "visited url", When = new() { Kind = InvitationConditionKinds.VisitedUrl, Pattern = "https://x.example/a" } },
            new InvitationRule { Id = "k", Name = "both", When = new() { Kind = InvitationConditionKinds.ExitIntent, All = [] } },
            new InvitationRule { Id = "l", Name = "\u0007bell" },
            new InvitationRule { Id = "m", Name = "property", When = new() { Kind = InvitationConditionKinds.Property, Property = "Plan!", Values = ["x"] } },
            new InvitationRule { Id = "a", Name = "twice" },
        };
        var problems = SiteValidation.Check(Site(rules), "settings").ToList();

        foreach (var expected in new[]
        {
            "Invitations:0:Message", "Invitations:1:Message", "Invitations:2:When:Kind", "nest at most 4", "at most 32 conditions",
            "Invitations:5:When:Pattern", "Invitations:6:When:Min", "Invitations:7:ActiveUntil", "Invitations:8:Action", "Invitations:9:When:Pattern",
            "either a group", "Invitations:11:Name", "Invitations:12:When:Property", "used twice",
        })
        {
            Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void At_most_fifty_rules_per_site()
    {
        var rules = Enumerable.Range(0, 51).Select(i => new InvitationRule { Id = $"r{i}", Name = "r" }).ToArray();
        Assert.Contains("at most 50 rules", Assert.Single(SiteValidation.Check(Site(rules), "settings")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/pricing", "https://shop.example/pricing?x=1", true)]
    [InlineData("/pricing", "https://shop.example/pricing/enterprise", false)]
    [InlineData("/pricing*", "https://shop.example/pricing/enterprise", true)]
    [InlineData("https://shop.example/*", "https://shop.example/a#b", true)]
    [InlineData("https://shop.example/*", "https://evil.example/shop.example/", false)]
    [InlineData("/PREISE", "https://shop.example/preise", true)]
    public void Url_patterns_match_paths_or_whole_urls(string pattern, string url, bool matches) =>
        Assert.Equal(matches, UrlPattern.Matches(pattern, url));

    [Fact]
    public void A_hostile_url_does_not_make_matching_slow()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(UrlPattern.Matches("/*a*a*a*a*a*a*a*b", "/" + new string('a', 100_000)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    private static SiteOptions Site(params InvitationRule[] rules) => new() { Id = "shop", Invitations = [.. rules] };
}
