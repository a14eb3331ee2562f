using System.Text;
using Insights.Ingest.Apis;
using Insights.Ingest.Parsing;
using Microsoft.AspNetCore.Http;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Where keys and body formats are read from a request.</summary>
public sealed class RequestEdgeTests
{
    private static string? KeyOf(Action<HttpRequest> configure)
    {
        var context = new DefaultHttpContext();
        configure(context.Request);
        return WriteKeys.Read(context.Request, out _);
    }

    private static string Basic(string credentials) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));

    [Fact]
    public void The_key_header_wins_then_basic_auth_then_the_query()
    {
        Assert.Equal("header-key", KeyOf(r =>
        {
            r.Headers["X-Insights-Key"] = "header-key";
            r.Headers.Authorization = Basic("basic-key:");
            r.QueryString = new QueryString("?key=query-key");
        }));
        Assert.Equal("basic-key", KeyOf(r =>
        {
            r.Headers.Authorization = Basic("basic-key:");
            r.QueryString = new QueryString("?key=query-key");
        }));
        Assert.Equal("query-key", KeyOf(r => r.QueryString = new QueryString("?key=query-key")));
        Assert.Null(KeyOf(_ => { }));
    }

    [Theory]
    [InlineData("basic-key:", "basic-key")]
    [InlineData("basic-key:ignored-password", "basic-key")]
    [InlineData("basic-key", "basic-key")]
    [InlineData("kéy-ünïcode:", "kéy-ünïcode")]
    public void Basic_auth_carries_the_key_as_the_user_name(string credentials, string key) =>
        Assert.Equal(key, KeyOf(r => r.Headers.Authorization = Basic(credentials)));

    [Theory]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic ")]
    [InlineData("Bearer demo-write-key-0001")]
    [InlineData("Basic OmVtcHR5LXVzZXI=")] // ":empty-user"
    public void Unusable_authorization_headers_carry_no_key(string authorization) =>
        Assert.Null(KeyOf(r => r.Headers.Authorization = authorization));

    [Fact]
    public void A_huge_authorization_header_carries_no_key() =>
        Assert.Null(KeyOf(r => r.Headers.Authorization = "Basic " + new string('A', 100_000)));

    [Theory]
    [InlineData(null, BodyFormat.Json)]
    [InlineData("application/json", BodyFormat.Json)]
    [InlineData("application/json; charset=utf-8", BodyFormat.Json)]
    [InlineData("Application/JSON; charset=\"UTF-8\"", BodyFormat.Json)]
    [InlineData("text/plain;charset=UTF-8", BodyFormat.Json)]
    [InlineData("application/x-ndjson", BodyFormat.NdJson)]
    [InlineData("application/jsonl", BodyFormat.NdJson)]
    [InlineData("application/xml", null)]
    [InlineData("application/x-www-form-urlencoded", null)]
    [InlineData("application/json; charset=utf-16", null)]
    [InlineData("not a media type", null)]
    public void Content_types_decide_the_framing(string? contentType, BodyFormat? format) =>
        Assert.Equal(format, BodyFormats.FromContentType(contentType));

    [Theory]
    [InlineData("application/x-www-form-urlencoded", BodyFormat.Json)]
    [InlineData("application/x-www-form-urlencoded; charset=utf-8", BodyFormat.Json)]
    [InlineData("application/x-www-form-urlencoded; charset=latin1", null)]
    [InlineData("application/json", BodyFormat.Json)]
    [InlineData("application/xml", null)]
    public void Segments_routes_read_a_form_label_as_json_as_rudderstacks_node_sdk_sends_it(string contentType, BodyFormat? format) =>
        Assert.Equal(format, BodyFormats.FromContentType(contentType, segmentRoute: true));
}
