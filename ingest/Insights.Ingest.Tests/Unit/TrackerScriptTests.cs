using System.IO.Compression;
using System.Text;
using Insights.Ingest.Tracker;

namespace Insights.Ingest.Tests.Unit;

/// <summary>The tracker as ingest serves it: within its size budget, and minified without changing what the code means.</summary>
public sealed class TrackerScriptTests
{
    private static readonly TrackerScript Served = TrackerScript.Load();

    [Fact]
    public void The_served_tracker_is_at_most_1664_bytes_gzipped()
    {
        // However a CDN or proxy recompresses it, and as ingest itself sends it.
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Served.Identity);
        }

        // The promise is the literal, not whatever the production constant says today.
        const int budget = 1_664;
        Assert.Equal(budget, TrackerScript.GzipBudgetBytes);
        Assert.True(buffer.Length <= budget, $"t.js is {buffer.Length} bytes gzipped; the budget is {budget}.");
        Assert.True(Served.Gzip.Length <= budget, $"t.js is served as {Served.Gzip.Length} gzipped bytes.");
        Assert.True(Served.Brotli.Length <= Served.Gzip.Length);
    }

    [Fact]
    public void The_invitation_script_stays_small_and_keeps_what_the_channel_and_the_reports_depend_on()
    {
        var invite = TrackerScript.Load(TrackerScript.Invitations);
        Assert.True(invite.Gzip.Length <= TrackerScript.InvitationGzipBudgetBytes,
            $"invite.js is {invite.Gzip.Length} bytes gzipped; the budget is {TrackerScript.InvitationGzipBudgetBytes}.");
        var script = Encoding.UTF8.GetString(invite.Identity);
        Assert.StartsWith("!function(w,d){", script, StringComparison.Ordinal);
        // The event and property names the invitation funnel reads, and the secret t.js keeps.
        foreach (var name in (string[])["'invitation_shown'", "'invitation_accepted'", "'invitation_declined'", "'exit_intent'",
            "invitation_id:", "rule_id:", "localStorage.insights_vidk", "role=\"dialog\""])
        {
            Assert.Contains(name, script, StringComparison.Ordinal);
        }

        Assert.NotEqual(Served.Version, invite.Version);
    }

    [Fact]
    public void The_tracker_keeps_the_secret_where_invite_js_reads_it()
    {
        var script = Encoding.UTF8.GetString(Served.Identity);
        Assert.Contains("K='insights_vid'", script, StringComparison.Ordinal);
        Assert.Contains("localStorage[K+'k']=x", script, StringComparison.Ordinal);
        Assert.Contains("c.digest('SHA-256',x)", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_encoding_holds_the_same_script_without_its_comments()
    {
        var script = Encoding.UTF8.GetString(Served.Identity);
        Assert.Equal(script, Decompress(Served.Gzip, stream => new GZipStream(stream, CompressionMode.Decompress)));
        Assert.Equal(script, Decompress(Served.Brotli, stream => new BrotliStream(stream, CompressionMode.Decompress)));

        Assert.StartsWith("!function(w,d,n,h){", script, StringComparison.Ordinal);
        Assert.DoesNotContain("//", script.Replace("https://", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("  ", script, StringComparison.Ordinal);
        // The strings the page and ingest depend on survive minification.
        Assert.Contains("'/v1/events?key='", script, StringComparison.Ordinal);
        Assert.Contains("'script[data-site-key]'", script, StringComparison.Ordinal);
        Assert.Contains("/(^|;\\s*)insights_vid=(\\w+)/", script, StringComparison.Ordinal);
    }

    [Fact]
    public void The_version_names_the_bytes()
    {
        Assert.Matches("^[A-Za-z0-9_-]{12}$", Served.Version);
        Assert.Equal(Served.Version, TrackerScript.Load().Version);
        Assert.NotEqual(new TrackerScript("let a = 1\n").Version, new TrackerScript("let a = 2\n").Version);
    }

    [Theory]
    [InlineData("  // a comment\n  let a = 1\n", "let a=1")]
    [InlineData("let s = 'a  b' + \"c // d\"\n", "let s='a  b'+\"c // d\"")]
    [InlineData("let s = 'it\\'s  here'\n", "let s='it\\'s  here'")]
    [InlineData("let a = b + +c - -d\n", "let a=b+ +c- -d")]
    [InlineData("return typeof x in y\n", "return typeof x in y")]
    [InlineData("\tif (a)\treturn\r\n", "if(a)return")]
    public void Minifying_drops_only_what_the_parser_ignores(string source, string expected) =>
        Assert.Equal(expected, TrackerScript.Minify(source));

    [Theory]
    // After an opening bracket, a comma or an operator, and before a closing bracket or a member access, a line
    // break cannot end a statement, so the lines join.
    [InlineData("f(a,\nb)\n", "f(a,b)")]
    [InlineData("if (a) {\nb()\n}\n", "if(a){b()}")]
    [InlineData("p\n.then(f)\n", "p.then(f)")]
    [InlineData("a ? b\n: c\n", "a?b:c")]
    // Elsewhere the break stays: "return" then "x" is "return; x", and "a" then "b" is two statements.
    [InlineData("return\nx\n", "return\nx")]
    [InlineData("a\nb\n", "a\nb")]
    [InlineData("a\n++b\n", "a\n++b")]
    public void Lines_join_only_where_a_line_break_means_nothing(string source, string expected) =>
        Assert.Equal(expected, TrackerScript.Minify(source));

    private static string Decompress(byte[] data, Func<Stream, Stream> decompressor)
    {
        using var stream = decompressor(new MemoryStream(data));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
