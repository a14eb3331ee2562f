using System.Security.Cryptography;
using System.Text;
using Insights.Contracts;
using Insights.Ingest.Masking;

namespace Insights.Ingest.Tests.Unit;

/// <summary>What of a chat reaches Kafka per site, e-mail masking, and the e-mail hash that joins people.</summary>
public sealed class ChatTextPrivacyTests
{
    private static readonly SiteOptions MetadataOnly = new() { Id = "demo" };
    private static readonly SiteOptions KeepsText = new() { Id = "demo", StoreChatText = true };
    private static readonly SiteOptions KeepsTextWithoutEmails = new() { Id = "demo", StoreChatText = true, MaskEmailsInChat = true };

    private const string Message = "Card 4111 1111 1111 1111, mail me at maria.keller@example.com.";

    [Fact]
    public void By_default_a_site_keeps_no_chat_text() => Assert.Null(PersonalDataPolicy.ChatText(MetadataOnly, Message));

    [Fact]
    public void A_site_that_keeps_text_gets_it_with_cards_masked() =>
        Assert.Equal("Card **** **** **** 1111, mail me at maria.keller@example.com.", PersonalDataPolicy.ChatText(KeepsText, Message));

    [Fact]
    public void A_site_that_asks_gets_email_addresses_masked_too() =>
        Assert.Equal("Card **** **** **** 1111, mail me at [email].", PersonalDataPolicy.ChatText(KeepsTextWithoutEmails, Message));

    [Fact]
    public void The_policy_replaces_chat_messages_of_a_batch_and_leaves_other_events_alone()
    {
        var now = DateTimeOffset.UtcNow;
        var chat = new PipelineEvent { EventId = "m", Type = EventTypes.ChatMessage, SiteId = "demo", Timestamp = now, ReceivedAt = now, ChatId = "c", MessageText = Message };
        var track = new PipelineEvent { EventId = "t", Type = EventTypes.Track, SiteId = "demo", Timestamp = now, ReceivedAt = now, Name = "x" };
        List<PipelineEvent> events = [chat, track];

        PersonalDataPolicy.Apply(MetadataOnly, events);

        Assert.Null(events[0].MessageText);
        Assert.Equal("c", events[0].ChatId);
        Assert.Same(track, events[1]);
    }

    [Theory]
    [InlineData("write to a.b+shop@mail.example.co.uk today", "write to [email] today")]
    [InlineData("Maria.Keller@Example.COM.", "[email].")]
    [InlineData("two: a@b.example, c@d.example", "two: [email], [email]")]
    [InlineData("<anna@shop.example>", "<[email]>")]
    public void Email_addresses_are_masked(string text, string masked) => Assert.Equal(masked, EmailMasker.Mask(text));

    [Theory]
    [InlineData("meet @ 5pm")]
    [InlineData("price@home")] // no domain with a dot
    [InlineData("user@localhost")]
    [InlineData("version 2.0@beta.1")] // the top-level label is not letters
    [InlineData("@shop.example")] // no local part
    public void Text_that_is_not_an_address_is_left_alone(string text) => Assert.Same(text, EmailMasker.Mask(text));

    [Fact]
    public void A_long_run_of_name_characters_is_scanned_once()
    {
        var hostile = new string('a', 100_000) + "@" + new string('b', 100_000);
        Assert.Same(hostile, EmailMasker.Mask(hostile));
    }

    [Fact]
    public void The_email_hash_is_sha256_hex_of_the_trimmed_lower_cased_address()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("maria.keller@example.com")));

        Assert.Equal(expected, EmailHash.Of("maria.keller@example.com"));
        Assert.Equal(expected, EmailHash.Of("  Maria.Keller@EXAMPLE.com\t"));
        Assert.Equal(64, expected.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not-an-address")]
    [InlineData("@example.com")]
    [InlineData("maria@")]
    [InlineData("maria keller@example.com")]
    [InlineData("a@b@example.com")]
    public void Something_that_is_not_an_address_has_no_hash(string? email) => Assert.Null(EmailHash.Of(email));
}
