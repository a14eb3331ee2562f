using System.Security.Cryptography;
using System.Text;
using Insights.Contracts;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

/// <summary>The API's identify, chat and order events (sent with a server key): what each carries onto the envelope and why one is refused.</summary>
public sealed class ChatAndOrderEventMappingTests
{
    private static string Hash(string email) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email)));

    [Fact]
    public void Identify_hashes_the_email_and_keeps_the_other_traits_without_it()
    {
        // What the tracker sends for insights('identify', 'u-42', {...}).
        var e = ServerParse.One("""
            {"type":"identify","messageId":"id-1","anonymousId":"k2x9","userId":"u-42",
             "traits":{"name":"Maria","email":" Maria.Keller@Example.com ","plan":"pro","address":{"city":"Berlin"}},
             "context":{"page":{"url":"https://shop.example/account"}}}
            """);

        Assert.Equal((EventTypes.Identify, "k2x9", "u-42"), (e.Type, e.AnonymousId, e.UserId));
        Assert.Equal(Hash("maria.keller@example.com"), e.EmailHash);
        Assert.Equal("""{"name":"Maria","plan":"pro","address":{"city":"Berlin"}}""", e.Properties?.GetRawText());
        Assert.DoesNotContain("@", EventCodecText(e), StringComparison.Ordinal);
        Assert.Equal("https://shop.example/account", e.Url);
        Assert.Equal("api", e.Source);
    }

    [Fact]
    public void Identify_takes_a_top_level_email_and_traits_without_one_as_they_are()
    {
        var e = ServerParse.One("""{"type":"identify","userId":"u-1","email":"a@shop.example","traits":{"plan":"free"}}""");

        Assert.Equal(Hash("a@shop.example"), e.EmailHash);
        Assert.Equal("""{"plan":"free"}""", e.Properties?.GetRawText());
    }

    [Fact]
    public void The_tracker_names_itself_as_the_source_and_a_platform_name_cannot_be_claimed()
    {
        Assert.Equal("tracker", ServerParse.One("""{"type":"track","event":"x","anonymousId":"v","source":"tracker"}""").Source);
        Assert.Equal("api", ServerParse.One("""{"type":"track","event":"x","anonymousId":"v"}""").Source);

        Assert.Equal(RejectReasons.InvalidField, ServerParse.Rejected("""{"type":"order","orderId":"o","total":1,"currency":"EUR","source":"shopify"}""").Reason);
        Assert.Equal(RejectReasons.InvalidField, ServerParse.Rejected("""{"type":"track","event":"x","anonymousId":"v","source":"My App"}""").Reason);
    }

    [Fact]
    public void Chat_events_carry_the_chat_agent_normalised_channel_and_visitor()
    {
        var started = ServerParse.One("""
            {"type":"chat_started","anonymousId":"k2x9","chatId":"chat-7","agentId":"anna@shop.example","channel":"WhatsApp Business",
             "email":"maria@example.com","timestamp":"2026-03-14T15:00:00Z"}
            """);
        Assert.Equal((EventTypes.ChatStarted, "chat-7", "anna@shop.example", "whatsapp", "k2x9"),
            (started.Type, started.ChatId, started.AgentId, started.Channel, started.AnonymousId));
        Assert.Equal(Hash("maria@example.com"), started.EmailHash);

        Assert.Equal("messenger", ServerParse.One("""{"type":"chat_ended","chatId":"c","channel":"fb_messenger"}""").Channel);
        Assert.Equal("apple_messages", ServerParse.One("""{"type":"chat_ended","chatId":"c","channel":"iMessage"}""").Channel);
        Assert.Equal("sms", ServerParse.One("""{"type":"chat_ended","chatId":"c","channel":"SMS"}""").Channel);
        Assert.Equal("website", ServerParse.One("""{"type":"chat_ended","chatId":"c","channel":"web"}""").Channel);
        Assert.Equal("telegram", ServerParse.One("""{"type":"chat_ended","chatId":"c","channel":"Telegram"}""").Channel);
    }

    [Fact]
    public void A_chat_message_is_card_masked_here_and_the_site_rule_decides_later_whether_it_is_kept()
    {
        var e = ServerParse.One("""
            {"type":"chat_message","chatId":"chat-7","author":"Customer","text":"pay with 4111 1111 1111 1111?","messageId":"msg-1"}
            """);

        Assert.Equal(("visitor", "pay with **** **** **** 1111?"), (e.MessageAuthor, e.MessageText));
        // Chat and order events are about their chat or order: the person is optional, and without one the chat
        // keeps its events together on one partition.
        Assert.Null(e.AnonymousId);
        Assert.Equal("demo:chat-7", e.PartitionKey);
    }

    [Fact]
    public void A_chat_rating_is_good_or_bad_or_a_score()
    {
        Assert.Equal(1, ServerParse.One("""{"type":"chat_rated","chatId":"c","rating":"good"}""").Rating);
        Assert.Equal(0, ServerParse.One("""{"type":"chat_rated","chatId":"c","rating":"bad"}""").Rating);
        Assert.Equal(1, ServerParse.One("""{"type":"chat_rated","chatId":"c","rating":true}""").Rating);
        Assert.Equal(9, ServerParse.One("""{"type":"chat_rated","chatId":"c","rating":9}""").Rating);
    }

    [Fact]
    public void An_order_carries_its_money_customer_coupon_and_items()
    {
        var e = ServerParse.One("""
            {"type":"order","messageId":"ord-1","orderId":"1042","total":"149.90","currency":"eur","coupon":"SPRING10",
             "userId":"cust-7","anonymousId":"k2x9","email":"Maria.Keller@example.com",
             "properties":{"items":[{"sku":"ESP-100","quantity":1,"price":149.9}]}}
            """);

        Assert.Equal((EventTypes.Order, "1042", 149.90m, "EUR", "SPRING10"), (e.Type, e.OrderId, e.Amount, e.Currency, e.Coupon));
        Assert.Equal(("cust-7", "k2x9", Hash("maria.keller@example.com")), (e.UserId, e.AnonymousId, e.EmailHash));
        Assert.Equal("""{"items":[{"sku":"ESP-100","quantity":1,"price":149.9}]}""", e.Properties?.GetRawText());
        Assert.Equal(19.99m, ServerParse.One("""{"type":"order","orderId":"o","amount":19.990000000000002,"currency":"USD"}""").Amount);
    }

    [Fact]
    public void Refunds_and_cancellations_name_their_order()
    {
        var refund = ServerParse.One("""{"type":"order_refunded","orderId":"1042","amount":17.56,"currency":"EUR"}""");
        Assert.Equal((EventTypes.OrderRefunded, "1042", 17.56m, "EUR"), (refund.Type, refund.OrderId, refund.Amount, refund.Currency));

        var cancelled = ServerParse.One("""{"type":"order_cancelled","orderId":"1042"}""");
        Assert.Equal((EventTypes.OrderCancelled, "1042", null, null), (cancelled.Type, cancelled.OrderId, cancelled.Amount, cancelled.Currency));
    }

    [Theory]
    [InlineData("""{"type":"identify","traits":{"email":"a@b.example"}}""", RejectReasons.MissingAnonymousId)]
    [InlineData("""{"type":"identify","userId":"u","traits":{"email":"not an address"}}""", TypeRejectReasons.InvalidEmail)]
    [InlineData("""{"type":"identify","userId":"u","traits":["email"]}""", RejectReasons.InvalidField)]
    [InlineData("""{"type":"chat_started","anonymousId":"v"}""", TypeRejectReasons.MissingChatId)]
    [InlineData("""{"type":"chat_message","chatId":7}""", RejectReasons.InvalidField)]
    [InlineData("""{"type":"chat_message","chatId":"c","author":"the cat"}""", RejectReasons.InvalidField)]
    [InlineData("""{"type":"chat_message","chatId":"c","text":{"t":"hi"}}""", RejectReasons.InvalidField)]
    [InlineData("""{"type":"chat_ended","chatId":"c","channel":"web chat!"}""", TypeRejectReasons.InvalidChannel)]
    [InlineData("""{"type":"chat_rated","chatId":"c"}""", TypeRejectReasons.MissingRating)]
    [InlineData("""{"type":"chat_rated","chatId":"c","rating":11}""", TypeRejectReasons.InvalidRating)]
    [InlineData("""{"type":"chat_rated","chatId":"c","rating":"meh"}""", TypeRejectReasons.InvalidRating)]
    [InlineData("""{"type":"order","total":10,"currency":"EUR"}""", TypeRejectReasons.MissingOrderId)]
    [InlineData("""{"type":"order","orderId":"o","currency":"EUR"}""", TypeRejectReasons.MissingAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":-5,"currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":"12,50","currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":"1e3","currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":1e300,"currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":true,"currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order","orderId":"o","total":10}""", TypeRejectReasons.MissingCurrency)]
    [InlineData("""{"type":"order","orderId":"o","total":10,"currency":"EURO"}""", TypeRejectReasons.InvalidCurrency)]
    [InlineData("""{"type":"order","orderId":"o","total":10,"currency":"XYZ"}""", TypeRejectReasons.InvalidCurrency)]
    [InlineData("""{"type":"order","orderId":"o","total":10,"currency":"XAU"}""", TypeRejectReasons.InvalidCurrency)]
    [InlineData("""{"type":"order","orderId":"o","total":10,"currency":"EUR","email":"nope"}""", TypeRejectReasons.InvalidEmail)]
    [InlineData("""{"type":"order_refunded","orderId":"o","currency":"EUR"}""", TypeRejectReasons.MissingAmount)]
    [InlineData("""{"type":"order_refunded","orderId":"o","amount":0,"currency":"EUR"}""", TypeRejectReasons.InvalidAmount)]
    [InlineData("""{"type":"order_refunded","amount":5,"currency":"EUR"}""", TypeRejectReasons.MissingOrderId)]
    [InlineData("""{"type":"order_cancelled","orderId":"o","amount":5}""", TypeRejectReasons.MissingCurrency)]
    public void Invalid_identify_chat_and_order_events_are_refused_with_their_reason(string json, string reason) =>
        Assert.Equal(reason, ServerParse.Rejected(json).Reason);

    [Fact]
    public void A_refusal_says_what_to_send()
    {
        var rejection = ServerParse.Rejected("""{"type":"order","orderId":"o","total":10,"currency":"euros"}""");

        Assert.Equal("\"currency\" must be an ISO 4217 code such as EUR or USD, got \"euros\"", rejection.Detail);
    }

    private static string EventCodecText(PipelineEvent e) => Encoding.UTF8.GetString(EventCodec.Encode(e));
}
