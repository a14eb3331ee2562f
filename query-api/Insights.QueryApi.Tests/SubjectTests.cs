using Insights.Contracts;
using Insights.QueryApi.Subjects;
using Insights.Storage;

namespace Insights.QueryApi.Tests;

/// <summary>Naming a subject (no database): the e-mail hash as ingest computes it, the body rules, the cluster statements.</summary>
public sealed class SubjectTests
{
    /// <summary>
    /// Known answer, computed outside .NET (<c>printf 'maria.keller@example.com' | sha256sum</c>) for the address ingest's own
    /// test hashes (ingest/Insights.Ingest.Tests/Unit/ChatTextPrivacyTests.cs): if either normalisation changes, an
    /// erasure by e-mail would match nothing, so this fails instead.
    /// </summary>
    [Theory]
    [InlineData("maria.keller@example.com")]
    [InlineData("  Maria.Keller@EXAMPLE.com\t")]
    [InlineData("MARIA.KELLER@EXAMPLE.COM\n")]
    public void The_email_hash_is_the_one_ingest_stores(string address) =>
        Assert.Equal("b5e6689a6e8fa57ba552a14f3c43604885b4002ffaf971158442e5b32ff30853", EmailHash.Of(address));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not-an-address")]
    [InlineData("@example.com")]
    [InlineData("maria@")]
    [InlineData("maria keller@example.com")]
    [InlineData("a@b@example.com")]
    [InlineData("maria\u0001@example.com")]
    public void Something_that_is_not_an_address_has_no_hash(string? email) => Assert.Null(EmailHash.Of(email));

    [Fact]
    public void An_address_longer_than_any_address_has_no_hash() =>
        Assert.Null(EmailHash.Of(new string('a', 250) + "@example.com"));

    [Theory]
    [InlineData("""{"anonymousId":"v-1"}""", "anonymousId", "a:v-1")]
    [InlineData("""{"AnonymousId":"v-1"}""", "anonymousId", "a:v-1")]
    [InlineData("""{"userId":"Ålice 🙂"}""", "userId", "u:Ålice 🙂")]
    [InlineData("""{"email":"Maria.Keller@example.com"}""", "email", "e:b5e6689a6e8fa57ba552a14f3c43604885b4002ffaf971158442e5b32ff30853")]
    public void A_subject_is_the_graph_node_of_the_one_id_named(string body, string kind, string node)
    {
        var errors = new Dictionary<string, string[]>();

        var subject = Subject.Parse(System.Text.Encoding.UTF8.GetBytes(body), errors);

        Assert.Empty(errors);
        Assert.Equal(new Subject(kind, node), subject);
    }

    [Fact]
    public void The_audit_hash_is_sha256_of_the_node_so_an_operator_can_compute_it_with_sha256sum() =>
        // printf 'u:alice' | sha256sum
        Assert.Equal("5f56e41a45f480f8942ca0bae83a7e0c55b9f45ee70c84e4daa1f79feae48dd3", new Subject("userId", "u:alice").Hash);

    [Fact]
    public void On_a_cluster_the_audit_table_is_replicated_and_written_through_a_distributed_table()
    {
        var migration = Assert.Single(SchemaMigrator.Migrations, m => m.Name == "0020_subject_requests");

        var statements = MigrationRenderer.Render(migration.Sql, new ClickHouseStorageOptions { Cluster = "c" });

        Assert.Contains("CREATE TABLE IF NOT EXISTS subject_requests_local ON CLUSTER c", statements[0], StringComparison.Ordinal);
        Assert.Contains("ENGINE = ReplicatedMergeTree(", statements[0], StringComparison.Ordinal);
        Assert.Contains("ENGINE = Distributed(c, insights, subject_requests_local, cityHash64(site_id))", statements[1], StringComparison.Ordinal);
        Assert.DoesNotContain("TTL", statements[0], StringComparison.Ordinal);
    }

    [Fact]
    public void On_a_cluster_the_delete_goes_to_every_shards_local_table()
    {
        var cluster = new ClickHouseStorageOptions { Cluster = "insights_cluster" };
        var single = new ClickHouseStorageOptions();

        Assert.StartsWith("DELETE FROM events_local ON CLUSTER insights_cluster WHERE site_id = {site:String} AND (", SubjectStore.DeleteStatement(cluster, "events"), StringComparison.Ordinal);
        Assert.StartsWith("DELETE FROM events WHERE site_id = {site:String} AND (", SubjectStore.DeleteStatement(single, "events"), StringComparison.Ordinal);
    }
}
