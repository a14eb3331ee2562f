using System.Text;

namespace Insights.Contracts.Tests;

/// <summary>The strings live events share (<see cref="Utf8Strings"/>): the same text is one string, and nothing else changes.</summary>
public sealed class Utf8StringsTests
{
    private const string Head = """{"v":1,"event_id":"e1","type":"pageview","site_id":"demo","timestamp":"2026-01-01T00:00:00Z","received_at":"2026-01-01T00:00:01Z",""";

    [Fact]
    public void A_live_event_read_twice_shares_its_repeated_strings_and_an_escaped_value_is_read_as_text()
    {
        var line = Encoding.UTF8.GetBytes(Head + """
            "path":"/pricing/grüße","title":"Pre\u00efse","geo":{"country":"DE","region":"Berlin","city":"Berlin"},"company":{"id":"acme-1","name":"Acme — 価格"}}
            """);
        var a = LiveEventReader.Read(line)!;
        var b = LiveEventReader.Read(line)!;
        Assert.Same(a.SiteId, b.SiteId);
        Assert.Same(a.Path, b.Path);
        Assert.Equal("/pricing/grüße", a.Path);
        Assert.Same(a.Geo!.Country, b.Geo!.Country);
        Assert.Same(a.Company!.Name, b.Company!.Name);
        Assert.Equal("Acme — 価格", a.Company.Name);
        Assert.Equal(("Preïse", "Preïse"), (a.Title, b.Title));
        // Unique values are not shared: each event keeps its own id.
        Assert.NotSame(a.EventId, b.EventId);
    }

    [Fact]
    public void Values_sharing_a_slot_each_read_as_themselves_and_long_values_are_never_kept()
    {
        // Far more distinct paths than slots, twice over: every event still reads its own, whichever held the slot.
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 3 * Utf8Strings.Slots; i++)
            {
                Assert.Equal($"/p/{i}", LiveEventReader.Read(Encoding.UTF8.GetBytes(Head + $"\"path\":\"/p/{i}\"}}"))!.Path);
            }
        }

        var title = new string('x', Utf8Strings.MaxBytes + 1);
        var line = Encoding.UTF8.GetBytes(Head + $"\"title\":\"{title}\"}}");
        var (first, second) = (LiveEventReader.Read(line)!.Title, LiveEventReader.Read(line)!.Title);
        Assert.Equal((title, title), (first, second));
        Assert.NotSame(first, second);
        Assert.False(Utf8Strings.TryGet(Encoding.UTF8.GetBytes(title), out _));
    }
}
