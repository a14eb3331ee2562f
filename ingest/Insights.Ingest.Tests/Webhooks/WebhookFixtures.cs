using System.Text;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.Ingest.Webhooks;

namespace Insights.Ingest.Tests.Webhooks;

/// <summary>The webhook bodies of TestData/Webhooks (see its README) and the secrets the tests sign them with.</summary>
internal static class WebhookFixtures
{
    public const string LiveChatSecret = "lc-secret-0123456789abcdef";
    public const string ShopifySecret = "shpss_test_0123456789abcdef0123456789";
    public const string WooCommerceSecret = "wc-secret-0123456789abcdef";

    public static readonly DateTimeOffset ReceivedAt = new(2026, 10, 12, 12, 0, 0, TimeSpan.Zero);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "Webhooks", name));

    public static JsonObject Json(string name) => JsonNode.Parse(Bytes(name))!.AsObject();

    public static byte[] ToBytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    public static SiteOptions Site(bool storeChatText = false, bool maskEmails = false) => new()
    {
        Id = "demo",
        StoreChatText = storeChatText,
        MaskEmailsInChat = maskEmails,
        LiveChatWebhookSecret = LiveChatSecret,
        ShopifyWebhookSecret = ShopifySecret,
        WooCommerceWebhookSecret = WooCommerceSecret,
    };

    public static WebhookContext Context(SiteOptions? site = null) =>
        new(site ?? Site(), ReceivedAt, new WebhookOptions(), new IngestOptions());

    public static string Sign(byte[] body, string secret) => WebhookSignatures.Sign(body, secret);

    /// <summary>
    /// Whether <paramref name="text"/> holds the leading digits of a card number the fixtures' chats carry, as the
    /// customer typed them. A bare "4111" is no test: an encoded event's timestamps and ids are digits too, and a
    /// receive time's ticks contained it in a CI run.
    /// </summary>
    public static bool HasAFixtureCard(string text) =>
        text.Contains("4111 1111", StringComparison.Ordinal) || text.Contains("5555-5555", StringComparison.Ordinal);
}
