using System.Collections.Frozen;
using Insights.Contracts;

namespace Insights.Ingest.Parsing;

/// <summary>
/// Reasons of the per-type rules (identify, chats, orders), stable on the wire and metric tags like
/// <see cref="RejectReasons"/>, which holds the envelope's.
/// </summary>
public static class TypeRejectReasons
{
    public const string MissingChatId = "missing_chat_id";
    public const string InvalidChannel = "invalid_channel";
    public const string MissingRating = "missing_rating";
    public const string InvalidRating = "invalid_rating";
    public const string MissingOrderId = "missing_order_id";
    public const string MissingAmount = "missing_amount";
    public const string InvalidAmount = "invalid_amount";
    public const string MissingCurrency = "missing_currency";
    public const string InvalidCurrency = "invalid_currency";
    public const string InvalidEmail = "invalid_email";
    public const string MissingGroupId = "missing_group_id";
    public const string MissingPreviousId = "missing_previous_id";
    public const string MissingUserId = "missing_user_id";
}

/// <summary>Values of <see cref="PipelineEvent.Source"/>: who sent the event.</summary>
public static class EventSources
{
    /// <summary>POST /v1/events when the body does not say (the tracker says "tracker").</summary>
    public const string Api = "api";
    public const string Tracker = "tracker";
    public const string LiveChat = "livechat";
    public const string Shopify = "shopify";
    public const string WooCommerce = "woocommerce";

    /// <summary>Set only by a verified webhook: a body cannot claim them.</summary>
    public static readonly FrozenSet<string> Webhooks = FrozenSet.Create(StringComparer.Ordinal, LiveChat, Shopify, WooCommerce);
}

/// <summary>Canonical values of <see cref="PipelineEvent.Channel"/>; other channels keep their own lower-case name.</summary>
public static class ChatChannels
{
    public const string Website = "website";
    public const string WhatsApp = "whatsapp";
    public const string Messenger = "messenger";
    public const string AppleMessages = "apple_messages";
    public const string Sms = "sms";
    public const string Email = "email";
}

/// <summary>Values of <see cref="PipelineEvent.MessageAuthor"/>.</summary>
public static class MessageAuthors
{
    public const string Visitor = "visitor";
    public const string Agent = "agent";
    public const string Bot = "bot";
    public const string System = "system";
}
