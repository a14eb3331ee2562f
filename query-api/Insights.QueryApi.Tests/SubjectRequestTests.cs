using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver;
using Insights.DevStack.Testing;
using Insights.QueryApi.Subjects;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// A person's data on request, against the dev stack's ClickHouse: the export lists every row stored about the person
/// and their linked devices, the erasure deletes exactly those rows and nobody else's, and both are the server key's alone.
/// </summary>
public sealed class SubjectRequestTests(DevStackFixture stack)
{
    // SHA-256 of "alice@example.com" and "bob@example.com", computed outside .NET (python3 hashlib).
    private const string AliceEmailHash = "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976";
    private const string BobEmailHash = "5ff860bf1190596c7188ab851db691f0f3169c453936e9e1eba2f9a47f7a0018";

    private static readonly string[] SortedTables = [.. PersonalTables.All.Select(t => t.Table).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task The_export_lists_every_row_of_the_person_and_their_other_device_found_through_the_email()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var alice = new TestPerson("alice", AliceEmailHash, Stranger: "stranger");
        var bob = new TestPerson("bob", BobEmailHash);
        await alice.InsertAsync(stack, db.Name);
        await bob.InsertAsync(stack, db.Name);
        await using var api = db.StartApi();

        var lines = await ExportAsync(api.CreateClient(), """{"email":"  Alice@Example.COM "}""");

        var subject = lines[0];
        Assert.Equal("_subject", subject.GetProperty("table").GetString());
        Assert.Equal("email", subject.GetProperty("subjectKind").GetString());
        Assert.Equal(Sha256("e:" + AliceEmailHash), subject.GetProperty("subjectHash").GetString());
        var ids = subject.GetProperty("ids");
        Assert.Equal(["alice-laptop", "alice-phone"], Strings(ids.GetProperty("anonymousIds")));
        Assert.Equal(["alice"], Strings(ids.GetProperty("userIds")));
        Assert.Equal([AliceEmailHash], Strings(ids.GetProperty("emailHashes")));
        Assert.Equal(["chat-alice"], Strings(ids.GetProperty("chats")));
        Assert.Equal(["order-alice"], Strings(ids.GetProperty("orders")));
        Assert.Equal(1, subject.GetProperty("weakLinksNotFollowed").GetInt32()); // the stranger: same IP and user agent only

        var rows = lines[1..^1];
        Assert.Equal("_end", lines[^1].GetProperty("table").GetString());
        Assert.Equal(alice.Rows.OrderBy(r => r.Key, StringComparer.Ordinal), Counts(lines[^1].GetProperty("rows")));
        Assert.Equal(alice.Rows.Where(r => r.Value > 0).OrderBy(r => r.Key, StringComparer.Ordinal),
            rows.GroupBy(r => r.GetProperty("table").GetString()!).Select(g => new KeyValuePair<string, long>(g.Key, g.Count())).OrderBy(r => r.Key, StringComparer.Ordinal));

        // The rows are the stored rows, column by column.
        var events = rows.Where(r => r.GetProperty("table").GetString() == "events").ToList();
        Assert.Equal(alice.EventIds.Order(StringComparer.Ordinal), events.Select(e => e.GetProperty("event_id").GetString()!).Order(StringComparer.Ordinal));
        var first = events.Single(e => e.GetProperty("event_id").GetString() == "alice-e1");
        Assert.Equal(("alice-laptop", "/", "::ffff:203.0.113.7"),
            (first.GetProperty("anonymous_id").GetString(), first.GetProperty("path").GetString(), first.GetProperty("ip").GetString()));
        var order = rows.Single(r => r.GetProperty("table").GetString() == "orders");
        Assert.Equal(120.5m, order.GetProperty("amount").GetDecimal());
        // 64-bit numbers as strings (a JavaScript reader would round a visitor hash), smaller ones as numbers.
        Assert.All(rows.Where(r => r.GetProperty("table").GetString() == "visitor_quarters"),
            r => Assert.Equal(JsonValueKind.String, r.GetProperty("visitor").ValueKind));
        Assert.Equal(JsonValueKind.Number, rows.First(r => r.GetProperty("table").GetString() == "sessions").GetProperty("page_views").ValueKind);
        Assert.DoesNotContain(rows, r => r.ToString().Contains("bob", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.GetProperty("table").GetString() == "events" && r.ToString().Contains("stranger", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_link_to_an_account_that_only_the_public_key_claimed_is_not_followed_from_the_visitor()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var bob = new TestPerson("bob", BobEmailHash);
        await bob.InsertAsync(stack, db.Name);
        await using var api = db.StartApi();
        var http = api.CreateClient();
        var bobAlone = RowLines(await ExportAsync(http, """{"userId":"bob"}"""));

        // Mallory's browser sent identify(userId: "bob") with the page's public key: ingest namespaced its id "pub:".
        await db.InsertAsync(new TestEvent("pub:mallory-e1", TestSites.Shop, new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc), "mallory-browser"));
        using (var client = new ClickHouseClient(stack.ConnectionString(db.Name)))
        {
            await client.InsertBinaryAsync("identity_links", ["site_id", "id", "linked_id", "strength", "reason", "event_id", "linked_at"],
                [[TestSites.Shop, "a:mallory-browser", "u:bob", (byte)2, "identify", "pub:mallory-e1", DateTime.UtcNow],
                 [TestSites.Shop, "u:bob", "a:mallory-browser", (byte)2, "identify", "pub:mallory-e1", DateTime.UtcNow]],
                cancellationToken: Http.Ct);
        }

        // Asked about the visitor, the claim leads nowhere: Mallory's own rows only, none of Bob's.
        var asVisitor = await ExportAsync(http, """{"anonymousId":"mallory-browser"}""");
        Assert.Equal(["mallory-browser"], Strings(asVisitor[0].GetProperty("ids").GetProperty("anonymousIds")));
        Assert.Empty(Strings(asVisitor[0].GetProperty("ids").GetProperty("userIds")));
        Assert.Equal(1, asVisitor[0].GetProperty("weakLinksNotFollowed").GetInt32());
        // The claim itself is Mallory's: its identity_links rows are hers, and name the id she typed.
        Assert.DoesNotContain(RowLines(asVisitor), r => r.Contains("bob", StringComparison.Ordinal)
            && !r.StartsWith("{\"table\":\"identity_links\"", StringComparison.Ordinal));
        Assert.Equal(2, RowLines(asVisitor).Count(r => r.StartsWith("{\"table\":\"identity_links\"", StringComparison.Ordinal)));

        // From the account, the browser it named is followed: that is the account's own history as far as anyone can tell.
        Assert.Contains(RowLines(await ExportAsync(http, """{"userId":"bob"}""")), r => r.Contains("mallory-browser", StringComparison.Ordinal));

        // Erasing the visitor takes Mallory's rows and her claim, and leaves Bob exactly as he was.
        using (var erase = await http.PostAsync("/v1/sites/shop/subjects/erase", """{"anonymousId":"mallory-browser"}""", bearer: TestSites.ShopServer))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        }

        Assert.Equal(bobAlone, RowLines(await ExportAsync(http, """{"userId":"bob"}""")));
    }

    [Fact]
    public async Task Erasing_a_user_deletes_them_and_their_devices_everywhere_and_leaves_everyone_else_as_it_was()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var alice = new TestPerson("alice", AliceEmailHash, Stranger: "stranger");
        var bob = new TestPerson("bob", BobEmailHash);
        var aliceElsewhere = new TestPerson("alice", AliceEmailHash, Site: TestSites.Other);
        await alice.InsertAsync(stack, db.Name);
        await bob.InsertAsync(stack, db.Name);
        await aliceElsewhere.InsertAsync(stack, db.Name);
        await db.InsertAsync(new TestEvent("stranger-e1", TestSites.Shop, new DateTime(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc), "stranger"));
        // A stored link to a node without an id: taken naively, "anonymous_id IN ['']" would delete Bob's server-side event.
        using (var client = new ClickHouseClient(stack.ConnectionString(db.Name)))
        {
            await client.InsertBinaryAsync("identity_links", ["site_id", "id", "linked_id", "strength", "reason", "event_id", "linked_at"],
                [[TestSites.Shop, "u:alice", "a:", (byte)2, "identify", "x", DateTime.UtcNow], [TestSites.Shop, "a:", "u:alice", (byte)2, "identify", "x", DateTime.UtcNow]],
                cancellationToken: Http.Ct);
        }

        await using var api = db.StartApi();
        var http = api.CreateClient();
        var bobBefore = RowLines(await ExportAsync(http, """{"userId":"bob"}"""));
        using (var profile = await http.RequestAsync("/v1/sites/shop/visitors/alice-phone", bearer: TestSites.ShopRead))
        {
            Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        }

        using var response = await http.PostAsync("/v1/sites/shop/subjects/erase", """{"userId":"alice"}""", bearer: TestSites.ShopServer);

        var body = await response.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var erasure = JsonSerializer.Deserialize<JsonElement>(body);
        var expected = alice.Rows;
        expected["identity_links"] += 2; // the two rows of the link to the empty node name alice too
        Assert.Equal(expected.OrderBy(r => r.Key, StringComparer.Ordinal), Counts(erasure.GetProperty("deleted")));
        Assert.Equal(["alice-laptop", "alice-phone"], Strings(erasure.GetProperty("ids").GetProperty("anonymousIds")));
        Assert.Equal(Sha256("u:alice"), erasure.GetProperty("subjectHash").GetString());

        // Gone: nothing left to export, by any of the person's ids, and the reports no longer know the visitor.
        foreach (var subject in new[] { """{"userId":"alice"}""", """{"anonymousId":"alice-laptop"}""", """{"anonymousId":"alice-phone"}""", """{"email":"alice@example.com"}""" })
        {
            var after = await ExportAsync(http, subject);
            Assert.Empty(RowLines(after));
            Assert.All(Counts(after[^1].GetProperty("rows")), c => Assert.Equal(0, c.Value));
        }

        using (var profile = await http.RequestAsync("/v1/sites/shop/visitors/alice-phone", bearer: TestSites.ShopRead))
        {
            Assert.Equal("visitor_not_found", (await profile.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        }

        // Untouched: Bob row for row (his server-side event too), the stranger, and the same ids on another site.
        Assert.Equal(bobBefore, RowLines(await ExportAsync(http, """{"userId":"bob"}""")));
        Assert.Equal(1, Counts((await ExportAsync(http, """{"anonymousId":"stranger"}"""))[^1].GetProperty("rows")).Single(c => c.Key == "events").Value);
        var elsewhere = await ExportAsync(http, """{"userId":"alice"}""", site: TestSites.Other, key: TestSites.OtherServer);
        Assert.Equal(aliceElsewhere.Rows.OrderBy(r => r.Key, StringComparer.Ordinal), Counts(elsewhere[^1].GetProperty("rows")));

        // Again: nothing more to delete.
        using var again = await http.PostAsync("/v1/sites/shop/subjects/erase", """{"userId":"alice"}""", bearer: TestSites.ShopServer);
        Assert.All(Counts((await again.ReadJsonAsync<JsonElement>()).GetProperty("deleted")), c => Assert.Equal(0, c.Value));

        // The audit record proves it without naming her: the hash of the node, the key's hash, the rows per table.
        var audit = await AuditAsync(db.Name);
        var record = audit.First(a => a.GetProperty("action").GetString() == "erase");
        Assert.Equal((TestSites.Shop, "userId", Sha256("u:alice"), Sha256(TestSites.ShopServer)[..16], 6),
            (record.GetProperty("site_id").GetString(), record.GetProperty("subject_kind").GetString(), record.GetProperty("subject_hash").GetString(),
                record.GetProperty("key_hash").GetString(), record.GetProperty("ids_covered").GetInt32()));
        Assert.Equal(expected.Values.Sum(), record.GetProperty("rows").EnumerateArray().Sum(r => long.Parse(r.GetRawText().Trim('"'), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains(audit, a => a.GetProperty("action").GetString() == "export");
        Assert.DoesNotContain(audit, a => a.ToString().Contains("alice", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_non_ascii_visitor_id_of_the_longest_allowed_length_is_erased_with_the_rest_of_the_person()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var name = "zoë-🙂-" + new string('ü', 256 - "-laptop".Length - "zoë-🙂-".Length);
        var zoe = new TestPerson(name, AliceEmailHash);
        Assert.Equal(Subject.MaxIdLength, zoe.Laptop.Length);
        await zoe.InsertAsync(stack, db.Name);
        await using var api = db.StartApi();
        var http = api.CreateClient();

        using var response = await http.PostAsync("/v1/sites/shop/subjects/erase", JsonSerializer.Serialize(new { anonymousId = zoe.Laptop }), bearer: TestSites.ShopServer);

        var erasure = await response.ReadJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(zoe.Rows.OrderBy(r => r.Key, StringComparer.Ordinal), Counts(erasure.GetProperty("deleted")));
        Assert.Empty(RowLines(await ExportAsync(http, JsonSerializer.Serialize(new { userId = name }))));
    }

    [Fact]
    public async Task A_subject_linked_further_than_the_configured_bound_is_refused_and_nothing_is_deleted()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var alice = new TestPerson("alice", AliceEmailHash);
        await alice.InsertAsync(stack, db.Name);
        var settings = db.Settings();
        settings["Subjects:MaxLinkRounds"] = "1"; // e-mail → user is one round; user → devices would be the second
        await using var api = new QueryApiFactory(settings);
        var http = api.CreateClient();

        using var response = await http.PostAsync("/v1/sites/shop/subjects/erase", """{"email":"alice@example.com"}""", bearer: TestSites.ShopServer);

        Assert.Equal("subject_too_large", (await response.ProblemAsync(HttpStatusCode.UnprocessableEntity)).Reason());
        await using var unbounded = db.StartApi();
        Assert.Equal(alice.Rows.OrderBy(r => r.Key, StringComparer.Ordinal),
            Counts((await ExportAsync(unbounded.CreateClient(), """{"userId":"alice"}"""))[^1].GetProperty("rows")));
    }

    [Theory]
    [InlineData(TestSites.ShopRead, HttpStatusCode.Forbidden, "server_key_required")]
    [InlineData(TestSites.ShopWrite, HttpStatusCode.Forbidden, "server_key_required")]
    [InlineData(TestSites.OtherRead, HttpStatusCode.Forbidden, "server_key_required")]
    [InlineData(TestSites.OtherServer, HttpStatusCode.NotFound, "site_not_found")]
    [InlineData("no-such-key-at-all", HttpStatusCode.Unauthorized, "unknown_key")]
    [InlineData(null, HttpStatusCode.Unauthorized, "missing_key")]
    public async Task Only_the_sites_own_server_key_may_export_or_erase(string? key, HttpStatusCode status, string reason)
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        var alice = new TestPerson("alice", AliceEmailHash);
        await alice.InsertAsync(stack, db.Name);
        await using var api = db.StartApi();
        var http = api.CreateClient();

        foreach (var action in new[] { "export", "erase" })
        {
            using var bearer = await http.PostAsync($"/v1/sites/shop/subjects/{action}", """{"userId":"alice"}""", bearer: key);
            using var header = await http.PostAsync($"/v1/sites/shop/subjects/{action}", """{"userId":"alice"}""", headerKey: key);
            Assert.Equal(reason, (await bearer.ProblemAsync(status)).Reason());
            Assert.Equal(reason, (await header.ProblemAsync(status)).Reason());
        }

        // A server key in the URL has leaked into access logs: refused, erasing nothing, and its owner told to rotate it.
        using var inUrl = await http.PostAsync($"/v1/sites/shop/subjects/erase?key={TestSites.ShopServer}", """{"userId":"alice"}""");
        Assert.Equal("secret_key_in_url", (await inUrl.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());

        Assert.Equal(alice.Rows.OrderBy(r => r.Key, StringComparer.Ordinal),
            Counts((await ExportAsync(http, """{"userId":"alice"}"""))[^1].GetProperty("rows")));
    }

    [Theory]
    [InlineData("", "body")]
    [InlineData("{}", "body")]
    [InlineData("null", "body")]
    [InlineData("[]", "body")]
    [InlineData("not json", "body")]
    [InlineData("""{"userId":"alice","anonymousId":"alice-laptop"}""", "body")]
    [InlineData("""{"visitorId":"alice-laptop"}""", "body")]
    [InlineData("""{"userId":42}""", "body")]
    [InlineData("""{"userId":{"a":{"b":{"c":{"d":{"e":1}}}}}}""", "body")]
    [InlineData("""{"userId":""}""", "userId")]
    [InlineData("""{"anonymousId":"tab\there"}""", "anonymousId")]
    [InlineData("""{"email":"not-an-address"}""", "email")]
    [InlineData("""{"email":"a@b@example.com"}""", "email")]
    [InlineData("""{"email":"two words@example.com"}""", "email")]
    public async Task A_malformed_subject_is_a_400_naming_what_to_fix(string body, string field)
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await using var api = db.StartApi();

        using var response = await api.CreateClient().PostAsync("/v1/sites/shop/subjects/erase", body, bearer: TestSites.ShopServer);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameters", problem.Reason());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Ids_past_the_stored_length_and_oversized_bodies_are_refused_and_the_key_is_checked_first()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await using var api = db.StartApi();
        var http = api.CreateClient();

        using var tooLong = await http.PostAsync("/v1/sites/shop/subjects/export", JsonSerializer.Serialize(new { anonymousId = new string('é', 257) }), bearer: TestSites.ShopServer);
        using var tooLarge = await http.PostAsync("/v1/sites/shop/subjects/erase", JsonSerializer.Serialize(new { userId = new string('x', 40_000) }), bearer: TestSites.ShopServer);
        using var deep = await http.PostAsync("/v1/sites/shop/subjects/erase", "{\"userId\":" + new string('[', 5_000) + new string(']', 5_000) + "}", bearer: TestSites.ShopServer);
        using var garbageWithoutKey = await http.PostAsync("/v1/sites/shop/subjects/erase", new string('{', 50_000));
        using var garbageWithReadKey = await http.PostAsync("/v1/sites/shop/subjects/erase", "not json", bearer: TestSites.ShopRead);

        Assert.True((await tooLong.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("anonymousId", out _));
        Assert.Equal("body_too_large", (await tooLarge.ProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Reason());
        Assert.Equal("invalid_parameters", (await deep.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        Assert.Equal("missing_key", (await garbageWithoutKey.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("server_key_required", (await garbageWithReadKey.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
    }

    [Fact]
    public async Task Every_table_with_a_persons_id_column_is_one_the_erasure_covers()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        using var client = new ClickHouseClient(stack.ConnectionString(db.Name));
        var parameters = new ClickHouse.Driver.ADO.Parameters.ClickHouseParameterCollection();
        ClickHouse.Driver.Utility.ClickHouseParameterCollectionExtensions.AddParameter(parameters, "db", db.Name);

        var tables = new List<string>();
        using (var reader = await client.ExecuteReaderAsync("""
                   SELECT DISTINCT c.table FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
                   WHERE c.database = {db:String} AND t.engine NOT IN ('MaterializedView', 'View')
                     AND c.name IN ('anonymous_id', 'user_id', 'email_hash', 'person_id', 'strong_person_id', 'linked_id', 'node', 'visitor', 'ip')
                   ORDER BY c.table
                   """, parameters, cancellationToken: Http.Ct))
        {
            while (await reader.ReadAsync(Http.Ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        // A new table holding a person's id needs a line in PersonalTables, or erasure silently leaves it behind.
        Assert.Equal(SortedTables, tables.Order(StringComparer.Ordinal).ToArray());
    }

    private static async Task<List<JsonElement>> ExportAsync(HttpClient client, string subject, string site = TestSites.Shop, string key = TestSites.ShopServer)
    {
        using var response = await client.PostAsync($"/v1/sites/{site}/subjects/export", subject, bearer: key);
        var text = await response.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<JsonElement>(line))];
    }

    /// <summary>The row lines of an export, sorted, as text: comparable between two exports of the same rows.</summary>
    private static List<string> RowLines(List<JsonElement> lines) =>
        [.. lines.Where(l => !l.GetProperty("table").GetString()!.StartsWith('_')).Select(l => l.GetRawText()).Order(StringComparer.Ordinal)];

    private static IEnumerable<KeyValuePair<string, long>> Counts(JsonElement rows) =>
        rows.EnumerateObject().Select(p => new KeyValuePair<string, long>(p.Name, p.Value.GetInt64())).OrderBy(p => p.Key, StringComparer.Ordinal);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private async Task<List<JsonElement>> AuditAsync(string database)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        var rows = new List<JsonElement>();
        using var reader = await client.ExecuteReaderAsync("SELECT formatRowNoNewline('JSONEachRow', *) FROM subject_requests ORDER BY requested_at", cancellationToken: Http.Ct);
        while (await reader.ReadAsync(Http.Ct))
        {
            rows.Add(JsonSerializer.Deserialize<JsonElement>(reader.GetString(0)));
        }

        return rows;
    }
}
