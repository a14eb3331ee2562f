using System.ComponentModel.DataAnnotations;

namespace Insights.Contracts.Tests;

public sealed class SiteCatalogTests
{
    private static SiteOptions Shop() => new()
    {
        Id = "shop",
        Name = "Shop",
        WriteKeys = ["shop-write-1", "shop-write-2"],
        ServerKeys = ["shop-server-1"],
        ReadKeys = ["shop-read-1"],
    };

    private static SiteOptions Blog() => new() { Id = "blog", WriteKeys = ["blog-write-1"], ReadKeys = ["blog-read-1"] };

    [Fact]
    public void A_key_finds_its_site_and_what_it_grants()
    {
        var catalog = new SiteCatalog([Shop(), Blog()]);

        Assert.Equal(("shop", KeyKind.Write), Describe(catalog.FindByKey("shop-write-1")));
        Assert.Equal(("shop", KeyKind.Write), Describe(catalog.FindByKey("shop-write-2")));
        Assert.Equal(("shop", KeyKind.Server), Describe(catalog.FindByKey("shop-server-1")));
        Assert.Equal(("shop", KeyKind.Read), Describe(catalog.FindByKey("shop-read-1")));
        Assert.Equal(("blog", KeyKind.Read), Describe(catalog.FindByKey("blog-read-1")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("unknown-key-1")]
    [InlineData("SHOP-WRITE-1")]
    [InlineData("shop-write-1 ")]
    [InlineData("shop-write")]
    public void Unknown_empty_and_almost_right_keys_find_nothing(string? key) =>
        Assert.Null(new SiteCatalog([Shop()]).FindByKey(key));

    [Fact]
    public void Sites_are_found_by_id_and_listed()
    {
        var catalog = new SiteCatalog([Shop(), Blog()]);

        Assert.Equal("Shop", catalog.FindById("shop")?.Name);
        Assert.Null(catalog.FindById("SHOP"));
        Assert.Null(catalog.FindById("nope"));
        Assert.Equal(["blog", "shop"], catalog.All.Select(s => s.Id).Order());
    }

    [Fact]
    public void An_empty_catalog_finds_nothing()
    {
        var catalog = new SiteCatalog([]);

        Assert.Empty(catalog.All);
        Assert.Null(catalog.FindByKey("shop-write-1"));
    }

    [Fact]
    public void A_site_id_configured_twice_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new SiteCatalog([Shop(), new SiteOptions { Id = "shop" }]));

        Assert.Equal("Sites: the site id 'shop' is configured twice.", error.Message);
    }

    [Fact]
    public void A_key_used_twice_is_refused_within_a_site_and_across_sites()
    {
        var withinSite = Shop();
        withinSite.ReadKeys = ["shop-write-1"];
        var acrossSites = Blog();
        acrossSites.WriteKeys = ["shop-server-1"];

        Assert.Equal("Sites: a key of site 'shop' is used twice; every key must be unique.",
            Assert.Throws<InvalidOperationException>(() => new SiteCatalog([withinSite])).Message);
        Assert.Equal("Sites: a key of site 'blog' is used twice; every key must be unique.",
            Assert.Throws<InvalidOperationException>(() => new SiteCatalog([Shop(), acrossSites])).Message);
    }

    [Theory]
    [InlineData("", KeyKind.Write)]
    [InlineData("1234567", KeyKind.Server)]
    [InlineData("short", KeyKind.Read)]
    public void Keys_shorter_than_8_characters_are_refused(string key, KeyKind kind)
    {
        var site = new SiteOptions { Id = "shop" };
        (kind switch { KeyKind.Write => site.WriteKeys, KeyKind.Server => site.ServerKeys, _ => site.ReadKeys }).Add(key);

        var error = Assert.Throws<InvalidOperationException>(() => new SiteCatalog([site]));

        Assert.Equal($"Sites: a {kind} key of site 'shop' is shorter than 8 characters.", error.Message);
    }

    [Fact]
    public void An_eight_character_key_is_long_enough() =>
        Assert.NotNull(new SiteCatalog([new SiteOptions { Id = "shop", WriteKeys = ["12345678"] }]).FindByKey("12345678"));

    [Theory]
    [InlineData("demo", true)]
    [InlineData("my-shop_2", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    [InlineData("Demo", false)]
    [InlineData("-shop", false)]
    [InlineData("shop site", false)]
    [InlineData("shop:1", false)]
    public void Site_ids_are_short_lowercase_names(string id, bool valid)
    {
        Assert.Equal(valid, IsValid(new SiteOptions { Id = id }));
    }

    [Fact]
    public void Site_ids_are_at_most_63_characters()
    {
        Assert.True(IsValid(new SiteOptions { Id = new string('a', 63) }));
        Assert.False(IsValid(new SiteOptions { Id = new string('a', 64) }));
    }

    [Fact]
    public void The_rate_limit_must_be_positive()
    {
        Assert.False(IsValid(new SiteOptions { Id = "shop", RateLimitPerSecond = 0 }));
        Assert.True(IsValid(new SiteOptions { Id = "shop", RateLimitPerSecond = 1 }));
        Assert.Equal(200_000, new SiteOptions().RateLimitPerSecond);
    }

    private static bool IsValid(SiteOptions site) => Validator.TryValidateObject(site, new ValidationContext(site), null, validateAllProperties: true);

    private static (string, KeyKind) Describe((SiteOptions Site, KeyKind Kind)? found)
    {
        Assert.NotNull(found);
        return (found.Value.Site.Id, found.Value.Kind);
    }

    [Fact]
    public void Replacing_the_contents_revokes_and_adds_keys_and_moves_the_version()
    {
        var catalog = new SiteCatalog([Shop()]);
        var before = catalog.Version;
        var replaced = 0;
        catalog.Replaced += _ => replaced++;

        // The store holds hashes only: the new contents name keys by hash, and the key lists of the sites are ignored.
        catalog.Replace([Shop(), Blog()],
            [new SiteKeyHash("shop", KeyKind.Server, SiteCatalog.HashKey("shop-server-2")), new SiteKeyHash("blog", KeyKind.Read, SiteCatalog.HashKey("blog-read-1"))]);

        Assert.Null(catalog.FindByKey("shop-server-1"));
        Assert.Null(catalog.FindByKey("shop-write-1"));
        Assert.Equal(("shop", KeyKind.Server), Describe(catalog.FindByKey("shop-server-2")));
        Assert.Equal(("blog", KeyKind.Read), Describe(catalog.FindByKey("blog-read-1")));
        Assert.True(catalog.Version > before);
        Assert.Equal(1, replaced);
    }

    [Fact]
    public void A_replacement_that_does_not_hold_together_is_refused_and_the_old_contents_stay()
    {
        var catalog = new SiteCatalog([Shop()]);
        var version = catalog.Version;

        var orphan = Assert.Throws<InvalidOperationException>(() =>
            catalog.Replace([Blog()], [new SiteKeyHash("shop", KeyKind.Read, SiteCatalog.HashKey("x-read-key"))]));
        var twice = Assert.Throws<InvalidOperationException>(() => catalog.Replace([Shop()],
            [new SiteKeyHash("shop", KeyKind.Read, SiteCatalog.HashKey("same-key-1")), new SiteKeyHash("shop", KeyKind.Write, SiteCatalog.HashKey("same-key-1"))]));

        Assert.Equal("Sites: a Read key names the site 'shop', which does not exist.", orphan.Message);
        Assert.Equal("Sites: a key of site 'shop' is used twice; every key must be unique.", twice.Message);
        Assert.Equal(("shop", KeyKind.Read), Describe(catalog.FindByKey("shop-read-1")));
        Assert.Equal(version, catalog.Version);
    }
}
