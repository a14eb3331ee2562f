using System.Text;
using System.Text.Json;

namespace Insights.Contracts.Tests;

/// <summary>
/// The hand-written live event reader (<see cref="LiveEventReader"/>) against the source-generated contract it replaced on
/// presence's read path: for every line, valid, odd or hostile, both accept it and read the same event, or both refuse it.
/// </summary>
public sealed class LiveEventReaderTests
{
    private const string Head = "\"v\":1,\"event_id\":\"e\",\"type\":\"pageview\",\"site_id\":\"demo\",";
    private const string Times = "\"timestamp\":\"2026-01-01T00:00:00Z\",\"received_at\":\"2026-01-01T00:00:01.5+02:00\"";
    private const string Event = "{" + Head + Times;

    public static TheoryData<string> Values() => new(
        // Accepted: what the processors write, in any order, with any subset of the optional members.
        Event + "}",
        Event + "}  \n\t",
        "{" + Times + "," + Head + "\"name\":\"late fields first\"}",
        """{"event_id":"e","type":"pageview","site_id":"demo",""" + Times + "}",
        Event + ""","v":2}""",
        Event + ""","visitor_id":"v1","user_id":"u1","url":"https://shop.example/a?b=1","path":"/a","title":"Gr\u00fc\u00dfe \ud83d\ude00","referrer":"https://www.google.com/"}""",
        Event + ""","visit":{"session_id":"s1","started_at":"2026-01-01T00:00:00Z","page_views":3,"channel":"paid","landing_referrer":"https://x.example/","campaign":{"source":"g","medium":"cpc","name":"n","term":"t","content":"c"}}}""",
        Event + ""","visit":{}}""",
        Event + ""","visit":{"session_id":"s1"}}""",
        Event + ""","visit":{"page_views":-2147483648,"started_at":"2026-01-01","unknown":[{"deep":1}]}}""",
        Event + ""","visit":{"session_id":null,"channel":null,"landing_referrer":null,"campaign":null}}""",
        Event + ""","visit":null,"campaign":null,"company":null,"geo":null,"device":null,"invitation":null,"properties":null}""",
        Event + ""","visit":{"session_id":"first"},"visit":{"channel":"the last one wins"}}""",
        Event + ""","visit":{"session_id":"s","session_id":"s2","Session_Id":"case differs"}}""",
        Event + ""","campaign":{"source":"g","medium":null,"Source":"case differs","extra":{"a":[]}}}""",
        Event + ""","campaign":{}}""",
        Event + ""","company":{"id":"acme-1","name":"Acme","domain":"acme.example"},"geo":{"country":"DE","region":"Berlin","city":"Berlin"}}""",
        Event + ""","company":{"id":"acme-1"},"geo":{},"device":{"os":"Linux"},"invitation":{"rule":"r"}}""",
        Event + ""","device":{"type":"desktop","browser":"Chrome","os":"Windows","extra":true}}""",
        Event + ""","invitation":{"id":"i-1","rule":null,"message":"Can we help?"}}""",
        Event + ""","properties":{}}""",
        Event + ""","properties":{"plan":"enterprise","cart":"full","empty":""}}""",
        Event + ""","properties":{"plan":null}}""",
        Event + ""","properties":{"plan":"a","plan":"b"}}""",
        Event + ""","properties":{"pl\u0061n":"escaped key","":"empty key"}}""",
        Event + ""","amount":49.90,"currency":"EUR","engaged_ms":1200,"chat_id":"c1"}""",
        Event + ""","amount":-0.0001,"engaged_ms":-9223372036854775808}""",
        Event + ""","amount":79228162514264337593543950335,"engaged_ms":9223372036854775807}""",
        Event + ""","amount":null,"engaged_ms":null,"ip":null,"user_agent":null}""",
        """{"\u0076":1,"event_\u0069d":"escaped names","type":"tr\u0061ck","site_id":"demo",""" + Times + "}",
        // An escaped name longer than the plain one: 48 bytes that read "event_id".
        """{"v":1,"\u0065\u0076\u0065\u006e\u0074\u005f\u0069\u0064":"long escape","type":"track","site_id":"demo",""" + Times + "}",
        Event + ""","event_id":"the last one wins","type":"chat_started"}""",
        """{"v":1,"event_id":null,"type":null,"site_id":null,""" + Times + "}",
        Event + ""","type":"not a known type"}""",
        Event + ""","unknown":{"nested":[{"deep":[1,2,{"x":null}]}]},"other":[],"flag":true}""",
        Event + ",\"" + new string('x', 100) + "\":1}",
        Event + ""","Event_Id":"case differs: an unknown field"}""",
        "{" + Head + """ "timestamp":"2026-01-01","received_at":"2026-01-01T00:00:00.1234567-05:30"}""",
        Event + ""","":"empty name"}""",
        "null",
        " null ",
        // Refused.
        "",
        "   ",
        "{}",
        "[]",
        "\"text\"",
        "42",
        Event,
        Event + ",}",
        Event + "} x",
        Event + "}{}",
        Event + "}null",
        "{/* a comment */" + Head + Times + "}",
        "{" + Head + "\"timestamp\":\"2026-01-01T00:00:00Z\"}",
        """{"v":1,"type":"track","site_id":"demo",""" + Times + "}",
        """{"v":1,"event_id":"e","site_id":"demo",""" + Times + "}",
        """{"v":1,"event_id":"e","type":"track",""" + Times + "}",
        "{" + Head + """ "timestamp":null,"received_at":"2026-01-01T00:00:00Z"}""",
        "{" + Head + """ "timestamp":"yesterday","received_at":"2026-01-01T00:00:00Z"}""",
        "{" + Head + """ "timestamp":1767225600,"received_at":"2026-01-01T00:00:00Z"}""",
        Event + ""","v":null}""",
        Event + ""","v":"1"}""",
        Event + ""","v":1.0}""",
        Event + ""","event_id":42}""",
        Event + ""","type":["pageview"]}""",
        Event + ""","visitor_id":{"id":"v"}}""",
        Event + ""","visit":"s1"}""",
        Event + ""","visit":[]}""",
        Event + ""","visit":{"page_views":"3"}}""",
        Event + ""","visit":{"page_views":3.5}}""",
        Event + ""","visit":{"page_views":4294967296}}""",
        Event + ""","visit":{"page_views":null}}""",
        Event + ""","visit":{"started_at":null}}""",
        Event + ""","visit":{"started_at":"soon"}}""",
        Event + ""","visit":{"session_id":7}}""",
        Event + ""","visit":{"campaign":"spring"}}""",
        Event + ",\"visit\":{\"session_id\":\"s1\"",
        Event + ""","campaign":{"source":1}}""",
        Event + ""","campaign":true}""",
        Event + ""","company":{"id":["a"]}}""",
        Event + ""","geo":"DE"}""",
        Event + ""","device":{"type":false}}""",
        Event + ""","invitation":{"message":{}}}""",
        Event + ""","properties":[]}""",
        Event + ""","properties":"plan"}""",
        Event + ""","properties":{"plan":1}}""",
        Event + ""","properties":{"plan":true}}""",
        Event + ""","properties":{"plan":{"nested":"x"}}}""",
        Event + ""","properties":{"plan":["a"]}}""",
        Event + ""","amount":"12.50"}""",
        Event + ""","amount":1e400}""",
        Event + ""","engaged_ms":"1200"}""",
        Event + ""","engaged_ms":1.5}""",
        Event + ""","engaged_ms":9223372036854775808}""",
        Event + ""","title":"\ud800 a lone surrogate"}""",
        Event + ""","visit":{"channel":"\udc00 a lone surrogate"}}""",
        Event + ""","properties":{"\ud800":"a lone surrogate key"}}""",
        Event + ""","title":"a control character \u0001 raw: """ + "\u0001\"}",
        Event + ",\"unknown\":" + new string('[', 70) + new string(']', 70) + "}",
        Event + ",\"visit\":{\"unknown\":" + new string('[', 70) + new string(']', 70) + "}}",
        "{'v':1}");

    [Theory]
    [MemberData(nameof(Values))]
    public void It_accepts_and_refuses_what_the_generated_contract_does_and_reads_the_same_event(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var expected = Outcome(() => JsonSerializer.Deserialize(bytes, LiveEventJson.Default.LiveEvent));
        var actual = Outcome(() => LiveEventReader.Read(bytes));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Invalid_utf8_is_refused_by_both_and_decoding_says_undecodable()
    {
        byte[] value = [.. "{\"v\":1,\"event_id\":\"e\",\"type\":\"pageview\",\"site_id\":\"demo\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"received_at\":\"2026-01-01T00:00:00Z\",\"title\":\"a"u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.Equal("refused", Outcome(() => JsonSerializer.Deserialize(value, LiveEventJson.Default.LiveEvent)));
        Assert.Equal("refused", Outcome(() => LiveEventReader.Read(value)));
        Assert.Equal("undecodable", LiveEventCodec.Decode(value).Reason);
    }

    [Fact]
    public void A_lone_surrogate_is_undecodable_not_an_exception()
    {
        var decoded = LiveEventCodec.Decode(Encoding.UTF8.GetBytes(Event + ""","title":"\ud800"}"""));

        Assert.Null(decoded.Event);
        Assert.Equal("undecodable", decoded.Reason);
    }

    [Fact]
    public void A_known_type_is_the_process_own_string()
    {
        var read = LiveEventReader.Read(Encoding.UTF8.GetBytes(Event + ""","type":"chat_st\u0061rted"}"""));

        Assert.Same(EventTypes.ChatStarted, read!.Type);
    }

    [Fact]
    public void The_full_contract_event_reads_back_equal()
    {
        var read = LiveEventReader.Read(LiveEventCodec.Encode(LiveEventContractTests.Full))!;

        Assert.Equal(LiveEventContractTests.Full, read with { Properties = LiveEventContractTests.Full.Properties });
        Assert.Equal(LiveEventContractTests.Full.Properties, read.Properties);
    }

    private static string Outcome(Func<LiveEvent?> read) => ReaderOutcome.Of(read, LiveEventCodec.Encode);
}
