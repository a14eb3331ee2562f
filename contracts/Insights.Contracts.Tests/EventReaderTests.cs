using System.Text;
using System.Text.Json;

namespace Insights.Contracts.Tests;

/// <summary>
/// The hand-written envelope reader (<see cref="EventReader"/>) against the source-generated contract it replaced on
/// the read path: for every value, valid, odd or hostile, both accept it and read the same event, or both refuse it.
/// </summary>
public sealed class EventReaderTests
{
    private const string Head = "\"v\":1,\"event_id\":\"e\",\"type\":\"track\",\"site_id\":\"demo\",";
    private const string Times = "\"timestamp\":\"2026-01-01T00:00:00Z\",\"received_at\":\"2026-01-01T00:00:01.5+02:00\"";

    public static TheoryData<string> Values() => new(
        // Accepted.
        "{" + Head + Times + "}",
        "{" + Head + Times + "}  \n\t",
        "{" + Times + "," + Head + "\"name\":\"late fields first\"}",
        """{"\u0076":1,"event_\u0069d":"escaped names","type":"tr\u0061ck","site_id":"demo",""" + Times + "}",
        // An escaped name longer than the plain one: 48 bytes that read "event_id".
        """{"v":1,"\u0065\u0076\u0065\u006e\u0074\u005f\u0069\u0064":"long escape","type":"track","site_id":"demo",""" + Times + "}",
        "{" + Head + Times + ""","event_id":"the last one wins","type":"pageview"}""",
        "{" + Head + Times + ""","user_id":null,"screen_width":null,"properties":null,"amount":null,"rating":null}""",
        """{"v":1,"event_id":null,"type":null,"site_id":null,""" + Times + "}",
        "{" + Head + Times + ""","screen_width":-2147483648,"screen_height":2147483647,"rating":0}""",
        "{" + Head + Times + ""","amount":-0.0001,"currency":"EUR"}""",
        "{" + Head + Times + ""","amount":79228162514264337593543950335}""",
        "{" + Head + Times + ""","properties":[1,"two",{"three":[3]}]}""",
        "{" + Head + Times + ""","properties":"just text"}""",
        "{" + Head + Times + ""","properties":{"k":"\u00fc\ud83d\ude00"},"title":"Gr\u00fc\u00dfe \ud83d\ude00"}""",
        "{" + Head + Times + ""","unknown":{"nested":[{"deep":[1,2,{"x":null}]}]},"other":[],"flag":true}""",
        "{" + Head + Times + ",\"" + new string('x', 100) + "\":1}",
        "{" + Head + Times + ""","Event_Id":"case differs: an unknown field"}""",
        "{" + Head + """ "timestamp":"2026-01-01","received_at":"2026-01-01T00:00:00.1234567-05:30"}""",
        "{" + Head + Times + ""","timestamp_clamped":false,"type":"screen"}""",
        "{" + Head + Times + ""","type":"not a known type"}""",
        "{" + Head + Times + ""","v":2}""",
        "{" + Head + Times + ""","":"empty name"}""",
        "null",
        " null ",
        // Refused.
        "",
        "   ",
        "{}",
        "[]",
        "\"text\"",
        "42",
        "{" + Head + Times,
        "{" + Head + Times + ",}",
        "{" + Head + Times + "} x",
        "{" + Head + Times + "}{}",
        "{" + Head + Times + "}null",
        "{/* a comment */" + Head + Times + "}",
        "{" + Head + "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
        """{"v":1,"type":"track","site_id":"demo",""" + Times + "}",
        """{"v":1,"event_id":"e","site_id":"demo",""" + Times + "}",
        """{"v":1,"event_id":"e","type":"track",""" + Times + "}",
        "{" + Head + """ "timestamp":null,"received_at":"2026-01-01T00:00:00Z"}""",
        "{" + Head + """ "timestamp":"yesterday","received_at":"2026-01-01T00:00:00Z"}""",
        "{" + Head + """ "timestamp":1767225600,"received_at":"2026-01-01T00:00:00Z"}""",
        "{" + Head + Times + ""","v":null}""",
        "{" + Head + Times + ""","v":"1"}""",
        "{" + Head + Times + ""","v":1.0}""",
        "{" + Head + Times + ""","v":1e0}""",
        "{" + Head + Times + ""","event_id":42}""",
        "{" + Head + Times + ""","type":["track"]}""",
        "{" + Head + Times + ""","user_id":{"id":"u"}}""",
        "{" + Head + Times + ""","screen_width":"1440"}""",
        "{" + Head + Times + ""","screen_width":1440.5}""",
        "{" + Head + Times + ""","screen_width":4294967296}""",
        "{" + Head + Times + ""","amount":"12.50"}""",
        "{" + Head + Times + ""","amount":1e400}""",
        "{" + Head + Times + ""","timestamp_clamped":"true"}""",
        "{" + Head + Times + ""","timestamp_clamped":1}""",
        "{" + Head + Times + ""","timestamp_clamped":null}""",
        "{" + Head + Times + ""","title":"\ud800 a lone surrogate"}""",
        "{" + Head + Times + ""","title":"a control character \u0001 raw: """ + "\u0001\"}",
        "{" + Head + Times + ",\"properties\":" + new string('[', 70) + new string(']', 70) + "}",
        "{" + Head + Times + ",\"unknown\":" + new string('[', 70) + new string(']', 70) + "}",
        "{'v':1}");

    [Theory]
    [MemberData(nameof(Values))]
    public void It_accepts_and_refuses_what_the_generated_contract_does_and_reads_the_same_event(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var expected = Outcome(() => JsonSerializer.Deserialize(bytes, PipelineEventJson.Default.PipelineEvent));
        var actual = Outcome(() => EventReader.Read(bytes));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Invalid_utf8_is_refused_by_both()
    {
        byte[] value = [.. "{\"v\":1,\"event_id\":\"e"u8, 0xC3, 0x28, .. "\",\"type\":\"track\",\"site_id\":\"demo\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"received_at\":\"2026-01-01T00:00:00Z\"}"u8];

        Assert.Equal("refused", Outcome(() => JsonSerializer.Deserialize(value, PipelineEventJson.Default.PipelineEvent)));
        Assert.Equal("refused", Outcome(() => EventReader.Read(value)));
    }

    [Fact]
    public void A_known_type_is_the_process_own_string()
    {
        var read = EventReader.Read(Encoding.UTF8.GetBytes("{" + Head + Times + ""","type":"chat_st\u0061rted"}"""));

        Assert.Same(EventTypes.ChatStarted, read!.Type);
    }

    private static string Outcome(Func<PipelineEvent?> read) => ReaderOutcome.Of(read, EventCodec.Encode);
}
