using System.Text.Json;
using Insights.Contracts;
using Insights.Ingest.Masking;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Webhooks;

/// <summary>
/// LiveChat webhooks (Configuration API v3.5/v3.6 envelope: <c>webhook_id</c>, <c>secret_key</c>, <c>action</c>,
/// <c>organization_id</c> or <c>license_id</c>, <c>payload</c>, <c>additional_data</c>) → chat and identify events.
/// LiveChat signs nothing: the body carries the secret registered with the webhook, located with a forward-only reader
/// and compared in constant time before anything else of the body is parsed.
/// </summary>
/// <remarks>
/// <para>
/// A LiveChat chat lives on with its customer; each conversation in it is a thread. <see cref="PipelineEvent.ChatId"/> is
/// therefore the thread id (one conversation, what LiveChat's reports count as a chat), and the chat id travels in
/// <c>properties.livechat_chat_id</c>.
/// </para>
/// <para>
/// The person: the tracker's visitor id when the payload has the customer's session fields (the glue puts it there as
/// <c>insights_visitor_id</c>), else the LiveChat customer as anonymous id <c>livechat:&lt;customer id&gt;</c>. Identify
/// events link the two (<c>properties.linked_anonymous_id</c>). Events that name no customer (an agent's message, a
/// chat closed by the router) carry only the chat id.
/// </para>
/// <para>
/// Authors: LiveChat agents' ids are their e-mail logins, customers' ids are UUIDs and bots' are 32 hex digits, which
/// is how a message's <c>author_id</c> is told apart (webhooks give no author type).
/// </para>
/// </remarks>
public static class LiveChatWebhook
{
    /// <summary>The session variable the glue sets: <c>LiveChatWidget.call('set_session_variables', {insights_visitor_id: ...})</c>.</summary>
    public const string VisitorIdField = "insights_visitor_id";

    public const string AnonymousIdPrefix = "livechat:";

    public static WebhookOutcome Receive(ReadOnlyMemory<byte> body, string secret, WebhookContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The secret first, read with a forward-only reader that stops at it: a sender who does not know it makes us
        // parse nothing else (no document, no UTF-8 pass over the rest, no nesting beyond locating it).
        Span<byte> presented = stackalloc byte[MaxSecretBytes];
        var length = FindSecret(body.Span, context.Limits.MaxJsonDepth, presented);
        if (length == 0)
        {
            return WebhookOutcome.Unauthorized(WebhookReasons.MissingSecret, "The webhook carries no \"secret_key\" string in its top-level object.");
        }

        if (length < 0 || !WebhookSignatures.IsSameSecret(presented[..length], secret))
        {
            return WebhookOutcome.Unauthorized(WebhookReasons.InvalidSecret,
                "The webhook's \"secret_key\" is not the secret configured for this site's LiveChat integration.");
        }

        using var document = WebhookJson.Parse(body, context, out var refused);
        if (document is null)
        {
            return refused!;
        }

        var root = document.RootElement;
        try
        {
            var action = root.Get("action"u8).Text();
            var payload = root.Get("payload"u8);
            if (payload.ValueKind != JsonValueKind.Object)
            {
                return WebhookOutcome.Invalid(WebhookReasons.InvalidPayload, "The webhook has no \"payload\" object.");
            }

            var events = new List<PipelineEvent>();
            switch (action)
            {
                case "incoming_chat":
                    IncomingChat(payload, context, events);
                    break;
                case "incoming_event":
                    IncomingEvent(payload, context, events);
                    break;
                case "chat_deactivated":
                    events.Add(ChatDeactivated(payload, context));
                    break;
                case "incoming_customer":
                    IncomingCustomer(payload, context, events);
                    break;
                case "customer_session_fields_updated":
                    SessionFieldsUpdated(payload, context, events);
                    break;
                default:
                    return WebhookOutcome.Ignore(WebhookReasons.UnmappedTopic, $"LiveChat action \"{action}\" is not mapped to events.");
            }

            return events.Count > 0
                ? WebhookOutcome.Produce(events)
                : WebhookOutcome.Ignore(action is "incoming_event" ? WebhookReasons.UnmappedEvent : WebhookReasons.NothingToLink,
                    action is "incoming_event"
                        ? "The event is not a message, file or form with an e-mail address."
                        : "The customer has neither an e-mail address nor an insights_visitor_id session field.");
        }
        catch (WebhookPayloadException error)
        {
            return WebhookOutcome.Invalid(error.Reason, error.Message);
        }
        catch (InvalidOperationException)
        {
            return WebhookOutcome.Invalid(RejectReasons.InvalidField, "The payload holds an invalid Unicode escape (a lone surrogate).");
        }
    }

    /// <summary>Longest <c>secret_key</c> read; a longer one cannot be a configured secret and is not the right one.</summary>
    private const int MaxSecretBytes = 1024;

    /// <summary>
    /// The top-level <c>secret_key</c> string, unescaped into <paramref name="secret"/>: its length, 0 when the body has
    /// none before it stops being a JSON object (other members are skipped, not parsed), -1 when it is too long.
    /// </summary>
    internal static int FindSecret(ReadOnlySpan<byte> body, int maxDepth, Span<byte> secret)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return 0;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isSecret = reader.ValueTextEquals("secret_key"u8);
                if (!reader.Read())
                {
                    return 0;
                }

                if (isSecret)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return 0;
                    }

                    if (reader.ValueSpan.Length > secret.Length)
                    {
                        return -1;
                    }

                    return reader.CopyString(secret);
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Malformed (or too deep) before the secret: an unauthenticated sender learns no more than that.
        }
        catch (InvalidOperationException)
        {
            // An escape that is no string (a lone surrogate) inside the secret itself.
        }

        return 0;
    }

    /// <summary>A new chat (thread): chat_started, plus the messages it started with.</summary>
    private static void IncomingChat(JsonElement payload, WebhookContext context, List<PipelineEvent> events)
    {
        var chat = payload.Get("chat"u8);
        var chatId = chat.Get("id"u8).Id("payload.chat.id", context);
        var thread = chat.Get("thread"u8);
        if (thread.ValueKind != JsonValueKind.Object)
        {
            // The Chat structure of the Agent Chat API lists threads; the webhook has the new one as "thread".
            thread = chat.Get("threads"u8).Items().LastOrDefault();
        }

        var threadId = thread.Get("id"u8).Id("payload.chat.thread.id", context);
        Customer? customer = null;
        string? agent = null;
        foreach (var user in chat.Get("users"u8).Items())
        {
            var type = user.Get("type"u8).Text();
            if (type == "customer" && customer is null)
            {
                customer = Customer.Read(user, context);
            }
            else if (type == "agent" && agent is null)
            {
                agent = user.Get("id"u8).OptionalId("payload.chat.users[].id", context);
            }
        }

        var started = WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.ChatStarted, $"livechat:{threadId}:chat_started",
            thread.Get("created_at"u8).Time()) with
        {
            ChatId = threadId,
            AgentId = agent,
            Channel = customer?.Channel ?? ChatChannels.Website,
            AnonymousId = customer?.AnonymousId,
            EmailHash = customer?.EmailHash,
            Ip = customer?.Ip,
            UserAgent = customer?.UserAgent,
            Url = customer?.PageUrl,
            Properties = WebhookJson.Build(writer =>
            {
                writer.WriteString("livechat_chat_id", chatId);
                writer.WriteIfPresent("livechat_customer_id", customer?.Id);
                writer.CopyIfPresent("tags", thread.Get("tags"u8));
            }),
        };
        events.Add(started);

        foreach (var e in thread.Get("events"u8).Items())
        {
            if (ChatEvent(e, chatId, threadId, customer, context) is { } mapped)
            {
                events.Add(mapped);
            }
        }
    }

    private static void IncomingEvent(JsonElement payload, WebhookContext context, List<PipelineEvent> events)
    {
        var chatId = payload.Get("chat_id"u8).Id("payload.chat_id", context);
        var threadId = payload.Get("thread_id"u8).Id("payload.thread_id", context);
        if (ChatEvent(payload.Get("event"u8), chatId, threadId, null, context) is { } mapped)
        {
            events.Add(mapped);
        }
    }

    /// <summary>
    /// A thread event: a message (text kept only as the site allows), a file or rich message (no text), or a filled
    /// form with an e-mail answer (the pre-chat survey: identify). System messages and the rest are not people talking.
    /// </summary>
    private static PipelineEvent? ChatEvent(JsonElement e, string chatId, string threadId, Customer? customer, WebhookContext context)
    {
        var kind = e.Get("type"u8).Text();
        if (kind is not ("message" or "file" or "rich_message" or "filled_form"))
        {
            return null;
        }

        var id = e.Get("id"u8).Id("event.id", context);
        var authorId = e.Get("author_id"u8).OptionalId("event.author_id", context);
        var author = authorId is null ? null : AuthorOf(authorId);
        // The customer wrote it: their LiveChat id is the person, unless the chat's customer (with session fields) is known.
        var anonymousId = customer?.AnonymousId ?? (author == MessageAuthors.Visitor ? AnonymousIdPrefix + authorId : null);
        var happened = e.Get("created_at"u8).Time();
        var eventId = $"livechat:{threadId}:{id}";

        if (kind == "filled_form")
        {
            var email = e.Get("fields"u8).Items()
                .Where(field => field.Get("type"u8).Text() == "email")
                .Select(field => EmailHash.Of(field.Get("answer"u8).Text()))
                .FirstOrDefault(hash => hash is not null);
            return email is null || anonymousId is null
                ? null
                : WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.Identify, eventId, happened) with
                {
                    AnonymousId = anonymousId,
                    EmailHash = email,
                    ChatId = threadId,
                    Properties = WebhookJson.Build(writer => writer.WriteString("livechat_chat_id", chatId)),
                };
        }

        return WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.ChatMessage, eventId, happened) with
        {
            ChatId = threadId,
            AnonymousId = anonymousId,
            AgentId = author is MessageAuthors.Agent or MessageAuthors.Bot ? authorId : null,
            MessageAuthor = author,
            MessageText = kind == "message" ? PersonalDataPolicy.ChatText(context.Site, e.Get("text"u8).Text()) : null,
            Properties = WebhookJson.Build(writer =>
            {
                writer.WriteString("livechat_chat_id", chatId);
                writer.WriteString("kind", kind);
            }),
        };
    }

    private static PipelineEvent ChatDeactivated(JsonElement payload, WebhookContext context)
    {
        var chatId = payload.Get("chat_id"u8).Id("payload.chat_id", context);
        var threadId = payload.Get("thread_id"u8).Id("payload.thread_id", context);
        // user_id is missing when LiveChat's router closed the thread (an inactive chat), rather than a person.
        var userId = payload.Get("user_id"u8).OptionalId("payload.user_id", context);
        var closedBy = userId is null ? "router" : AuthorOf(userId) ?? "unknown";
        return WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.ChatEnded, $"livechat:{threadId}:chat_ended", null) with
        {
            ChatId = threadId,
            AnonymousId = closedBy == MessageAuthors.Visitor ? AnonymousIdPrefix + userId : null,
            AgentId = closedBy is MessageAuthors.Agent or MessageAuthors.Bot ? userId : null,
            Properties = WebhookJson.Build(writer =>
            {
                writer.WriteString("livechat_chat_id", chatId);
                writer.WriteString("closed_by", closedBy);
            }),
        };
    }

    /// <summary>A customer (v3.5 only): identify, linking the LiveChat customer to the visitor and/or the e-mail hash.</summary>
    private static void IncomingCustomer(JsonElement payload, WebhookContext context, List<PipelineEvent> events)
    {
        var customer = Customer.Read(payload.Get("customer"u8), context);
        if (customer.Id is null)
        {
            throw new WebhookPayloadException(WebhookReasons.InvalidPayload, "\"payload.customer.id\" is required");
        }

        if (customer.VisitorId is null && customer.EmailHash is null)
        {
            return;
        }

        events.Add(WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.Identify,
            $"livechat:customer:{customer.Id}:{customer.VisitorId ?? customer.EmailHash}", null) with
        {
            AnonymousId = customer.AnonymousId,
            EmailHash = customer.EmailHash,
            Ip = customer.Ip,
            UserAgent = customer.UserAgent,
            Properties = customer.LinkProperties(chatId: null),
        });
    }

    /// <summary>The glue ran (perhaps after the chat started): identify linking the LiveChat customer and its active chat to the visitor.</summary>
    private static void SessionFieldsUpdated(JsonElement payload, WebhookContext context, List<PipelineEvent> events)
    {
        var customerId = payload.Get("id"u8).Id("payload.id", context);
        var visitorId = VisitorIdOf(payload.Get("session_fields"u8), context);
        if (visitorId is null)
        {
            return;
        }

        var active = payload.Get("active_chat"u8);
        var chatId = active.Get("chat_id"u8).OptionalId("payload.active_chat.chat_id", context);
        var threadId = active.Get("thread_id"u8).OptionalId("payload.active_chat.thread_id", context);
        var customer = new Customer(customerId, visitorId, null, null, null, null, null);
        events.Add(WebhookJson.NewEvent(context, EventSources.LiveChat, EventTypes.Identify, $"livechat:customer:{customerId}:{visitorId}", null) with
        {
            AnonymousId = visitorId,
            ChatId = threadId,
            Properties = customer.LinkProperties(chatId),
        });
    }

    internal static string? AuthorOf(string userId) =>
        userId.Contains('@', StringComparison.Ordinal) ? MessageAuthors.Agent
        : Guid.TryParseExact(userId, "D", out _) ? MessageAuthors.Visitor
        : userId.Length == 32 && userId.All(char.IsAsciiHexDigit) ? MessageAuthors.Bot
        : null;

    /// <summary>The visitor id among LiveChat session fields, a list of one-entry objects: <c>[{"insights_visitor_id": "..."}]</c>.</summary>
    private static string? VisitorIdOf(JsonElement sessionFields, WebhookContext context)
    {
        foreach (var field in sessionFields.Items())
        {
            if (field.Get("insights_visitor_id"u8) is { ValueKind: JsonValueKind.String } value)
            {
                return value.OptionalId("session_fields.insights_visitor_id", context);
            }
        }

        return null;
    }

    /// <summary>What the events need of a LiveChat "User > Customer".</summary>
    private sealed record Customer(string? Id, string? VisitorId, string? EmailHash, string? Ip, string? UserAgent, string? PageUrl, string? Channel)
    {
        public string? AnonymousId => VisitorId ?? (Id is null ? null : AnonymousIdPrefix + Id);

        public static Customer Read(JsonElement user, WebhookContext context)
        {
            var visit = user.Get("visit"u8);
            var lastPage = visit.Get("last_pages"u8).Items().LastOrDefault();
            return new Customer(
                user.Get("id"u8).OptionalId("customer.id", context),
                VisitorIdOf(user.Get("session_fields"u8), context),
                Contracts.EmailHash.Of(user.Get("email"u8).Text()),
                WebhookJson.Ip(visit.Get("ip"u8).Text()),
                WebhookJson.UserAgent(visit.Get("user_agent"u8).Text()),
                lastPage.Get("url"u8).Text() is { Length: <= 8192 } url ? url : null,
                ChannelOf(user, visit));
        }

        public JsonElement LinkProperties(string? chatId) => WebhookJson.Build(writer =>
        {
            writer.WriteIfPresent("livechat_customer_id", Id);
            // For identity stitching: the anonymous id the LiveChat customer had where no visitor id was known.
            writer.WriteIfPresent("linked_anonymous_id", Id is null ? null : AnonymousIdPrefix + Id);
            writer.WriteIfPresent("livechat_chat_id", chatId);
        });

        /// <summary>
        /// A customer with a widget visit chatted on the website; one without, reached through an integration, is on the
        /// channel its omnichannel identity names (Messenger, SMS via Twilio, WhatsApp, Apple Messages).
        /// </summary>
        private static string? ChannelOf(JsonElement user, JsonElement visit)
        {
            if (visit.ValueKind == JsonValueKind.Object)
            {
                return ChatChannels.Website;
            }

            var omnichannel = user.Get("omnichannel"u8);
            if (omnichannel.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var property in omnichannel.EnumerateObject())
            {
                // Keys such as "fb_messenger" and "twilio" fold to messenger and sms; a key we do not know names no channel.
                if (EventValues.NormalizeChannel(property.Name) is (ChatChannels.Messenger or ChatChannels.Sms or ChatChannels.WhatsApp
                    or ChatChannels.AppleMessages or ChatChannels.Email) and var channel)
                {
                    return channel;
                }
            }

            return null;
        }
    }
}
